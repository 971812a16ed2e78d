"""The calculator: every rule below / at / above each threshold and cap, exact traces, bad input as Chinese messages."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calculator import (
    Calculation,
    SharedCap,
    calculate,
    combine,
    describe_formula,
    format_calculation,
    run_calc_command,
    shared_caps,
    times,
)
from assistant.rules import find_rule, load_rules
from assistant.settings import PROJECT_ROOT

W = 10_000  # 1万元 in yuan
ZJG = {"location": "紫金港科技城"}
YQ = {"location": "云栖小镇"}
BIOMED = {**ZJG, "industry": "生物医药", "years_since_registration": "3年"}
IC = {**ZJG, "industry": "集成电路"}
GROWTH = {
    **YQ,
    "revenue": "3000万元",
    "revenue_cagr_3y": "26%",
    "revenue_positive_growth_years": "2年",
    "revenue_growth_latest": "31%",
}

RULES = load_rules(PROJECT_ROOT / "knowledge" / "awards.yaml")

# (rule id, inputs, expected amount in yuan: a number, 0 for not eligible, None for "ask first")
TABLE: list[tuple[str, dict, int | float | None]] = [
    # 第十二条
    ("key-tech-major-project", {}, 1000 * W),
    ("key-tech-competitive-project", {"project_investment": "1000万元"}, 200 * W),
    ("key-tech-competitive-project", {"project_investment": "1500万元"}, 300 * W),  # at the cap
    ("key-tech-competitive-project", {"project_investment": "2000万元"}, 300 * W),  # above the cap
    ("key-tech-competitive-project", {"project_investment": 0}, 0),
    ("key-tech-national-task", {"grant_received": "800万元"}, 200 * W),
    ("key-tech-national-task", {"grant_received": "2000万元"}, 500 * W),
    ("key-tech-national-task", {"grant_received": "3000万元"}, 500 * W),
    # 第十四条: thresholds 200万/500万 (以上 includes the number), caps 200万/300万, direct awards at 1亿/5亿
    ("rd-subsidy-sme", {"rd_increase": "199万元"}, 0),
    ("rd-subsidy-sme", {"rd_increase": "200万元"}, 10 * W),
    ("rd-subsidy-sme", {"rd_increase": "1200万元"}, 60 * W),
    ("rd-subsidy-sme", {"rd_increase": "4000万元"}, 200 * W),
    ("rd-subsidy-sme", {"rd_increase": "5000万元"}, 200 * W),
    ("rd-subsidy-sme", {"rd_spend": "3200万元", "rd_spend_last_year": "2000万元"}, 60 * W),
    ("rd-subsidy-sme", {"rd_increase": "1200万元", "scale": "超过科技型中小企业"}, 0),
    ("rd-subsidy-sme-direct", {"rd_spend": "9999万元"}, 0),
    ("rd-subsidy-sme-direct", {"rd_spend": "1亿元"}, 200 * W),
    ("rd-subsidy-sme-direct", {"rd_spend": "1.5亿元"}, 200 * W),
    ("rd-subsidy-large", {"rd_increase": "499万元"}, 0),
    ("rd-subsidy-large", {"rd_increase": "500万元"}, 25 * W),
    ("rd-subsidy-large", {"rd_increase": "6000万元"}, 300 * W),
    ("rd-subsidy-large", {"rd_increase": "8000万元"}, 300 * W),
    ("rd-subsidy-large", {"rd_increase": "1200万元", "scale": "sme"}, 0),
    ("rd-subsidy-large-direct", {"rd_spend": "4.99亿元"}, 0),
    ("rd-subsidy-large-direct", {"rd_spend": "5亿元"}, 300 * W),
    ("rd-subsidy-large-direct", {"rd_spend": "6亿元", "scale": "above_sme"}, 300 * W),
    # 第十五条
    ("provincial-key-lab", {}, 100 * W),
    ("overseas-rd-institution", {"grant_received": "300万元"}, 150 * W),
    ("rd-headquarters", {"rd_spend": "999万元"}, 0),
    ("rd-headquarters", {"rd_spend": "1000万元"}, 50 * W),
    ("rd-headquarters", {"rd_spend": "1亿元"}, 500 * W),
    ("rd-headquarters", {"rd_spend": "2亿元"}, 500 * W),
    ("foreign-rd-center", {"grant_received": "100万元"}, 50 * W),
    ("hq-rd-subsidy", {}, 300 * W),
    # 第十六条
    ("tech-insurance-premium", {"insurance_premium": "30万元"}, 15 * W),
    ("tech-insurance-premium", {"insurance_premium": "100万元"}, 50 * W),
    ("tech-insurance-premium", {"insurance_premium": "200万元"}, 50 * W),
    ("sci-award-first-prize-industrialization", {}, 500 * W),
    ("sci-award-second-prize-industrialization", {}, 200 * W),
    ("proof-of-concept-center-creation", {}, 50 * W),
    ("proof-of-concept-center-annual", {}, 500 * W),
    ("tech-transaction-award", {}, 200 * W),
    # 第十七条
    ("maker-space-operation", {"maker_space_grade": "优秀"}, 30 * W),
    ("maker-space-operation", {"maker_space_grade": "良好"}, 20 * W),
    ("maker-space-operation", {}, None),
    ("incubator-operation", {"incubator_stars": "五星"}, 30 * W),
    ("incubator-operation", {"incubator_stars": "四星"}, 20 * W),
    ("incubator-operation", {"incubator_stars": "三星"}, 0),
    ("incubator-graduate-award", {"incubator_graduates": 3}, 45 * W),
    ("incubator-graduate-award", {"incubator_graduates": "1家"}, 15 * W),
    ("incubator-graduate-award", {"incubator_graduates": 0}, 0),
    ("incubator-upgrade", {}, 50 * W),
    # 第十八条
    ("xinchuying-first", {}, 50 * W),
    ("high-tech-first", {}, 20 * W),
    ("high-tech-renewal", {}, 10 * W),
    ("high-tech-first-above-scale", {}, 30 * W),
    # 第十九条
    ("leading-team", {}, 500 * W),
    ("postdoc-workstation", {"postdoc_level": "省级"}, 50 * W),
    ("postdoc-workstation", {"postdoc_level": "国家级"}, 100 * W),
    ("postdoc-independent-recruitment", {}, 50 * W),
    # 第二十条: guarantee up to 1000万, term up to 1 year, fee up to 0.8%
    ("guarantee-fee", {"guarantee_amount": "500万元"}, 4 * W),
    ("guarantee-fee", {"guarantee_amount": "1000万元", "guarantee_years": "1年"}, 8 * W),
    ("guarantee-fee", {"guarantee_amount": "1200万元"}, 8 * W),
    ("guarantee-fee", {"guarantee_amount": "500万元", "guarantee_years": "2年"}, 0),
    ("guarantee-fee", {"guarantee_amount": "500万元", "guarantee_years": "6个月"}, 4 * W),
    # 第三十一条
    ("first-above-scale-industrial", {}, 20 * W),
    ("above-scale-sustained-growth", {"years_in_scale": "3年", "value_added_growth": "10%"}, 20 * W),
    ("above-scale-sustained-growth", {"years_in_scale": "4年", "value_added_growth": "15%"}, 20 * W),
    ("above-scale-sustained-growth", {"years_in_scale": "2年", "value_added_growth": "15%"}, 0),
    ("above-scale-sustained-growth", {"years_in_scale": "3年", "value_added_growth": "9.9%"}, 0),
    ("above-scale-sustained-growth", {"years_in_scale": "3年", "value_added_growth": "9%"}, 0),
    ("individual-to-enterprise-above-scale", {}, 10 * W),
    ("manufacturing-champion", {"champion_level": "单项冠军"}, 200 * W),
    ("manufacturing-champion", {"champion_level": "隐形冠军"}, 100 * W),
    # 第三十二条
    ("talent-project-startup-fund", {"talent_category": "A类"}, 1000 * W),
    ("talent-project-startup-fund", {"talent_category": "B类"}, 300 * W),
    ("talent-project-startup-fund", {"talent_category": "C类"}, 100 * W),
    ("talent-project-startup-fund", {"talent_category": "D类"}, 50 * W),
    # 第三十四条
    ("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "499万元"}, 0),
    ("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "500万元"}, 20 * W),
    ("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "800万元"}, 32 * W),
    ("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "2.5亿元"}, 1000 * W),
    ("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "3亿元"}, 1000 * W),
    ("zijingang-tech-renovation", {**YQ, "tech_renovation_investment": "800万元"}, 0),
    ("zijingang-tech-renovation", {"tech_renovation_investment": "800万元"}, None),
    ("zijingang-robot-imported", {**ZJG, "robot_purchase": "200万元"}, 10 * W),
    ("zijingang-robot-imported", {**ZJG, "robot_purchase": "1000万元"}, 50 * W),
    ("zijingang-robot-imported", {**ZJG, "robot_purchase": "2000万元"}, 50 * W),
    ("zijingang-robot-domestic", {**ZJG, "robot_purchase": "200万元"}, 20 * W),
    ("zijingang-robot-domestic", {**ZJG, "robot_purchase": "500万元"}, 50 * W),
    ("zijingang-robot-domestic", {**ZJG, "robot_purchase": "600万元"}, 50 * W),
    ("zijingang-robot-domestic", {**ZJG, "robot_purchase": "200万元", "robot_origin": "进口"}, 0),
    ("zijingang-biomed-equipment", {**BIOMED, "years_since_registration": "6年", "equipment_investment": "600万元"}, 0),
    (
        "zijingang-biomed-equipment",
        {**BIOMED, "years_since_registration": "五年", "equipment_investment": "500万元"},
        20 * W,
    ),
    ("zijingang-biomed-equipment", {**BIOMED, "equipment_investment": "499万元"}, 0),
    ("zijingang-biomed-equipment", {**BIOMED, "equipment_investment": "2.5亿元"}, 1000 * W),
    ("zijingang-biomed-equipment", {**BIOMED, "equipment_investment": "3亿元"}, 1000 * W),
    ("zijingang-biomed-equipment", {**BIOMED, "equipment_investment": "600万元", "approved_amount": "1000万元"}, 0),
    (
        "zijingang-biomed-equipment",
        {**BIOMED, "equipment_investment": "700万元", "approved_amount": "1000万元"},
        28 * W,
    ),
    (
        "zijingang-biomed-equipment",
        {**BIOMED, "equipment_investment": "800万元", "approved_amount": "1000万元"},
        32 * W,
    ),
    ("zijingang-biomed-equipment", {**ZJG, "industry": "生物医药", "equipment_investment": "600万元"}, None),
    ("zijingang-biomed-equipment", {**BIOMED, "industry": "集成电路", "equipment_investment": "600万元"}, 0),
    ("zijingang-biomed-platform", {**ZJG, "platform_investment": "5000万元"}, 1500 * W),
    ("zijingang-biomed-platform", {**ZJG, "platform_investment": "66666666.67"}, 2000 * W),
    ("zijingang-biomed-platform", {**ZJG, "platform_investment": "1亿元"}, 2000 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "80万元"}, 120 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "100万元"}, 150 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "120万元"}, 150 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "80万元", "rent_years": "2年"}, 80 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "80万元", "rent_years": "5年"}, 120 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "80万元", "newly_registered": "否"}, 0),
    # one year of the three: the cumulative 150万 cap counts what the earlier years already paid
    ("zijingang-ic-rent", {**IC, "annual_rent": "80万元", "rent_start_year": "3年"}, 40 * W),
    ("zijingang-ic-rent", {**IC, "annual_rent": "100万元", "rent_start_year": "3年"}, 50 * W),  # at the cap
    ("zijingang-ic-rent", {**IC, "annual_rent": "120万元", "rent_start_year": "3年"}, 30 * W),  # above it
    ("zijingang-ic-rent", {**IC, "annual_rent": "160万元", "rent_start_year": "3年"}, 0),  # nothing left
    ("zijingang-ic-rent", {**IC, "annual_rent": "80万元", "rent_start_year": "4年"}, 0),  # beyond three years
    ("zijingang-ic-tapeout", {**IC, "years_since_registration": "3年"}, 300 * W),
    ("zijingang-ic-tapeout", {**IC, "years_since_registration": "4年"}, 0),
    ("zijingang-ic-tapeout", {**IC}, None),
    ("zijingang-fund-investment", {**ZJG}, 2000 * W),
    # 第三十五条
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "area": "2000平方米"}, 360 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "area": "3000平方米"}, 360 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "area": "5000平方米"}, 216 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_years": "1年"}, 120 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_years": "3年"}, 300 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_years": "10年"}, 360 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "1年"}, 120 * W),  # 第一年 alone
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "2年"}, 120 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "3年"}, 60 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "4年"}, 60 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "5年"}, 0),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "2年", "rent_years": "2年"}, 180 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "3年", "rent_years": "5年"}, 120 * W),
    ("yunqi-rent", {**YQ, "annual_rent": "120万元", "area": "6000平方米", "rent_start_year": "3年"}, 30 * W),
    ("yunqi-equity-investment", {**YQ}, 3000 * W),
    ("yunqi-space-hq-award", {**YQ, "valuation": "3亿元", "revenue": "8000万元"}, 0),  # 超过 excludes the number
    ("yunqi-space-hq-award", {**YQ, "valuation": "3.01亿元", "revenue": "8001万元"}, 100 * W),
    ("yunqi-space-hq-award", {**YQ, "valuation": "7亿元", "revenue": "1.5亿元"}, 100 * W),  # both conditions of a tier
    ("yunqi-space-hq-award", {**YQ, "valuation": "7亿元", "revenue": "2亿元"}, 200 * W),
    ("yunqi-space-hq-award", {**YQ, "valuation": "20亿元", "revenue": "5亿元"}, 500 * W),
    ("yunqi-space-hq-award", {**YQ, "valuation": "31亿元", "revenue": "9亿元"}, 1000 * W),
    ("yunqi-space-hq-award", {**YQ, "valuation": "31亿元", "revenue": "3亿元"}, 200 * W),
    ("yunqi-space-revenue-milestone", {**YQ, "revenue": "4999万元"}, 0),
    ("yunqi-space-revenue-milestone", {**YQ, "revenue": "5000万元"}, 50 * W),
    ("yunqi-space-revenue-milestone", {**YQ, "revenue": "1亿元"}, 100 * W),
    ("yunqi-space-revenue-milestone", {**YQ, "revenue": "5亿元"}, 300 * W),
    ("yunqi-space-revenue-milestone", {**YQ, "revenue": "1.2亿元", "previous_award": "50万元"}, 50 * W),
    ("yunqi-space-revenue-milestone", {**YQ, "revenue": "1.2亿元", "previous_award": "100万元"}, 0),
    ("yunqi-space-output-milestone", {**YQ, "output_value": "9999万元"}, 0),
    ("yunqi-space-output-milestone", {**YQ, "output_value": "1亿元"}, 50 * W),
    ("yunqi-space-output-milestone", {**YQ, "output_value": "2亿元"}, 100 * W),
    ("yunqi-space-output-milestone", {**YQ, "output_value": "5亿元"}, 200 * W),
    ("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "999万元"}, 0),
    ("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "1000万元"}, 200 * W),
    ("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "5000万元"}, 1000 * W),
    ("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "1亿元"}, 2000 * W),
    ("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "2亿元"}, 2000 * W),
    (
        "yunqi-space-fixed-asset",
        {**YQ, "fixed_asset_investment": "5000万元", "years_since_introduction": "12个月"},
        1000 * W,
    ),
    ("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "5000万元", "years_since_introduction": "13个月"}, 0),
    ("yunqi-rd-award", {**GROWTH, "rd_spend": "1000万元"}, 300 * W),
    ("yunqi-rd-award", {**GROWTH, "rd_spend": "4000万元"}, 1000 * W),
    ("yunqi-rd-award", {**GROWTH, "rd_spend": "1000万元", "revenue": "2999万元"}, 0),
    ("yunqi-rd-award", {**GROWTH, "rd_spend": "1000万元", "revenue_cagr_3y": "25%"}, 0),
    ("yunqi-rd-award", {**GROWTH, "rd_spend": "1000万元", "revenue_growth_latest": "30%"}, 0),
    ("yunqi-rd-award", {**GROWTH, "rd_spend": "1000万元", "revenue_positive_growth_years": "1年"}, 0),
    ("yunqi-rd-award", {**YQ, "revenue": "5000万元", "rd_spend": "1000万元"}, None),
    # 第三十九、四十条
    ("key-software-enterprise", {}, 200 * W),
    ("key-software-enterprise", {"first_time": "是"}, 200 * W),
    ("key-software-enterprise", {"first_time": "否"}, 0),
    ("design-award", {"design_award_level": "世界设计大奖"}, 30 * W),
    ("design-award", {"design_award_level": "国内权威设计奖项"}, 20 * W),
    ("visual-design-adopted", {}, 30 * W),
    # 第四十一条
    ("culture-enterprise-recognition", {"culture_recognition": "国家级文化出口重点企业"}, 50 * W),
    ("culture-enterprise-recognition", {"culture_recognition": "省数字文化示范企业"}, 20 * W),
    ("culture-enterprise-recognition", {"culture_recognition": "省成长型文化企业"}, 10 * W),
    ("culture-park", {"culture_park_level": "省重点文化产业园区"}, 30 * W),
    ("culture-park", {"culture_park_level": "区级"}, 10 * W),
    ("culture-fund-matching", {"culture_fund_type": "浙江文化艺术发展基金", "grant_received": "40万元"}, 20 * W),
    ("culture-fund-matching", {"culture_fund_type": "浙江文化艺术发展基金", "grant_received": "60万元"}, 30 * W),
    ("culture-fund-matching", {"culture_fund_type": "浙江文化艺术发展基金", "grant_received": "100万元"}, 30 * W),
    ("culture-fund-matching", {"culture_fund_type": "杭州市文艺精品工程", "grant_received": "30万元"}, 15 * W),
    ("culture-fund-matching", {"culture_fund_type": "杭州市文艺精品工程", "grant_received": "40万元"}, 20 * W),
    ("culture-fund-matching", {"culture_fund_type": "杭州市文艺精品工程", "grant_received": "50万元"}, 20 * W),
    ("film-award", {"film_award_level": "金鸡奖"}, 30 * W),
    ("film-award", {"film_award_level": "牡丹奖"}, 10 * W),
    ("five-ones-award", {"five_ones_level": "国家级"}, 100 * W),
    ("five-ones-award", {"five_ones_level": "市级"}, 5 * W),
    # 第四十二条
    ("scenic-area-rating", {"scenic_level": "5A"}, 50 * W),
    ("scenic-area-rating", {"scenic_level": "4A"}, 30 * W),
    ("scenic-area-rating", {"scenic_level": "3A"}, 20 * W),
    ("scenic-area-rating", {"scenic_level": "4A", "first_time": False}, 0),
    ("rural-tourism-project", {"audit_amount": "300万元"}, 60 * W),
    ("rural-tourism-project", {"audit_amount": "400万元"}, 80 * W),
    ("rural-tourism-project", {"audit_amount": "500万元"}, 80 * W),
    ("rural-tourism-smart", {"project_investment": "50万元"}, 10 * W),
    ("rural-tourism-smart", {"project_investment": "75万元"}, 15 * W),
    ("rural-tourism-smart", {"project_investment": "100万元"}, 15 * W),
    # 第四十三、四十四条
    ("sports-demonstration", {"sports_demo_level": "国家级"}, 20 * W),
    ("sports-demonstration", {"sports_demo_level": "省级"}, 10 * W),
    ("sports-event-hosting", {"event_level": "国家级"}, 120 * W),
    ("sports-event-hosting", {"event_level": "省级"}, 80 * W),
    ("sports-event-hosting", {"event_level": "市级", "days_filed_before_event": "30日"}, 60 * W),
    ("sports-event-hosting", {"event_level": "区级", "days_filed_before_event": "29天"}, 0),
    ("sports-event-hosting", {"event_level": "区级"}, 40 * W),
    ("equity-market-pilot", {}, 1000 * W),
    # 第四十六条
    ("export-credit-insurance", {"insurance_premium": "100万元"}, 60 * W),
    ("export-credit-insurance", {"insurance_premium": "100万元", "is_manufacturer": True}, 65 * W),
    ("export-credit-insurance", {"insurance_premium": "1000万元"}, 500 * W),
    ("export-credit-insurance", {"insurance_premium": "1000万元", "is_manufacturer": "是"}, 500 * W),
    ("trade-fair-overseas", {"booth_fee": "20万元", "airfare": "5万元"}, 175_000),
    ("trade-fair-overseas", {"booth_fee": "20万元"}, 14 * W),
    ("trade-fair-overseas", {"airfare": "1万元"}, 7000),
    # 第四十七条: tiers at 1亿/10亿/20亿 (以上 includes the number), cap 1500万
    ("retail-catering-new", {"retail_sales": "9999万元"}, 0),
    ("retail-catering-new", {"retail_sales": "1亿元"}, 20 * W),
    ("retail-catering-new", {"retail_sales": "1.5亿元"}, 30 * W),
    ("retail-catering-new", {"retail_sales": "25亿元", "industry": "汽车销售"}, 0),
    ("retail-catering-new", {"retail_sales": "9.99亿元"}, 199.8 * W),
    ("retail-catering-new", {"retail_sales": "10亿元"}, 300 * W),
    ("retail-catering-new", {"retail_sales": "20亿元"}, 1000 * W),
    ("retail-catering-new", {"retail_sales": "30亿元"}, 1500 * W),
    ("retail-catering-new", {"retail_sales": "40亿元"}, 1500 * W),
    ("retail-catering-new", {"retail_sales": "2亿元", "industry": "汽车销售"}, 0),
    ("retail-catering-new", {"retail_sales": "2亿元", "industry": "餐饮", "newly_registered": False}, 0),
    # 第五十八、五十九、六十条
    ("agri-tech-project", {"project_investment": "39万元"}, 0),
    ("agri-tech-project", {"project_investment": "40万元"}, 20 * W),
    ("agri-online-sales-project", {"project_investment": "40万元", "online_sales": "499万元"}, 0),
    ("agri-online-sales-project", {"project_investment": "40万元", "online_sales": "500万元"}, 20 * W),
    ("longjing-tea-purchase", {"tea_purchase": "5.9吨"}, 0),
    ("longjing-tea-purchase", {"tea_purchase": "6吨"}, 30 * W),
    ("longjing-frying-master", {}, 1 * W),
    ("green-certification-new", {"certification_type": "有机食品"}, 5 * W),
    ("green-certification-new", {"certification_type": "绿色食品"}, 4 * W),
    ("green-certification-new", {"certification_type": "无公害农产品"}, 3 * W),
    ("green-certification-renewal", {"certification_type": "有机"}, 3 * W),
    ("green-certification-renewal", {"certification_type": "无公害"}, 1 * W),
    ("agri-leading-enterprise", {"agri_leader_level": "省级"}, 15 * W),
    ("agri-leading-enterprise", {"agri_leader_level": "区级"}, 2 * W),
    ("agri-product-award", {"agri_prize_level": "二等奖"}, 8000),
    ("agri-expo-out-of-province", {}, 3000),
]


def _calc(rule_id: str, inputs: dict) -> Calculation:
    rule = find_rule(RULES, rule_id)
    assert rule is not None, rule_id
    return calculate(rule, inputs)


@pytest.mark.parametrize(("rule_id", "inputs", "expected"), TABLE, ids=[f"{row[0]}-{i}" for i, row in enumerate(TABLE)])
def test_every_rule_below_at_and_above_its_thresholds_and_caps(rule_id, inputs, expected):
    calc = _calc(rule_id, inputs)
    if expected is None:
        assert calc.amount_yuan is None
        assert calc.status == "incomplete"
        assert calc.missing
    else:
        assert calc.amount_yuan == Decimal(str(expected))
        assert calc.status == ("ineligible" if expected == 0 else "eligible")


def test_the_table_covers_every_rule():
    covered = {row[0] for row in TABLE}
    assert [rule.id for rule in RULES if rule.id not in covered] == []


def test_every_rule_with_a_cap_or_threshold_has_rows_on_both_sides_of_it():
    amounts: dict[str, set] = {}
    for rule_id, _, expected in TABLE:
        amounts.setdefault(rule_id, set()).add(expected)
    thin = [
        rule.id
        for rule in RULES
        if (rule.formula.cap is not None or any(not spec.scope and not spec.assume for spec in rule.conditions))
        and len(amounts[rule.id]) < 2
    ]
    assert thin == []


# ----------------------------------------------------------------------------- what the user reads


def test_technical_renovation_trace_reads_like_a_person_wrote_it():
    calc = _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "800万元"})
    assert calc.trace == "800万元 × 4% = 32万元，未超过上限1000万元，资助32万元"
    assert calc.is_maximum is False
    assert (calc.article, calc.article_label) == ("A34", "第三十四条")
    assert format_calculation(calc).splitlines()[0] == "可获32万元资助（第三十四条，紫金港科技城技术改造项目资助）。"


def test_rd_increase_is_a_maximum_with_the_scale_assumption_stated():
    calc = _calc("rd-subsidy-sme", {"rd_increase": "1200万元"})
    assert calc.trace == "1200万元 × 5% = 60万元，未超过上限200万元，补助60万元"
    assert calc.assumptions == ("按经营规模符合国家科技型中小企业认定标准计算",)
    assert calc.conditions[0].status == "unknown"
    assert calc.conditions[1].detail == "需要 ≥200万元，实际 1200万元"
    text = format_calculation(calc)
    assert text.startswith("最高可获60万元补助（第十四条，研发投入增量补助（科技型中小企业规模））。")
    assert "假设：按经营规模符合国家科技型中小企业认定标准计算" in text
    assert text.endswith("依据：第十四条：“" + calc.clause + "”")


def test_cap_above_is_said_and_applied():
    calc = _calc("rd-subsidy-sme", {"rd_increase": "5000万元"})
    assert calc.trace == "5000万元 × 5% = 250万元，超过上限200万元，按上限计200万元，补助200万元"
    at_cap = _calc("rd-subsidy-sme", {"rd_increase": "4000万元"})
    assert at_cap.trace == "4000万元 × 5% = 200万元，恰好达到上限200万元，补助200万元"


def test_derived_increase_shows_its_subtraction():
    calc = _calc("rd-subsidy-sme", {"rd_spend": "3200万元", "rd_spend_last_year": "2000万元"})
    assert calc.trace.startswith("年度研发投入新增额 = 3200万元 − 2000万元 = 1200万元；1200万元 × 5% = 60万元")


def test_retail_tier_trace_names_the_tier():
    calc = _calc("retail-catering-new", {"retail_sales": "1.5亿元"})
    assert calc.trace == (
        "全年纳统社零额1.5亿元（≥1亿元），达到1亿元档，按0.2%计："
        "1.5亿元 × 0.2% = 30万元，未超过上限1500万元，一次性奖励30万元"
    )


def test_biomed_firm_registered_six_years_ago_is_told_why_not():
    calc = _calc(
        "zijingang-biomed-equipment", {**BIOMED, "years_since_registration": "6年", "equipment_investment": "600万元"}
    )
    assert calc.amount_yuan == 0
    assert format_calculation(calc).splitlines()[0] == (
        "不符合紫金港科技城生物医药企业设备购置技改补贴（第三十四条）的条件："
        "自完成注册之日起年限（五年内）需要 ≤5年，实际 6年。"
    )


def test_seventy_percent_rule_compares_with_the_approved_amount():
    calc = _calc(
        "zijingang-biomed-equipment", {**BIOMED, "equipment_investment": "600万元", "approved_amount": "1000万元"}
    )
    unmet = [c for c in calc.conditions if c.status == "unmet"]
    assert [(c.name, c.detail) for c in unmet] == [
        ("实际投资不低于立项金额的70%", "需要 ≥立项金额的70%（700万元），实际 600万元")
    ]


def test_unknown_location_asks_and_gives_the_conditional_amount():
    calc = _calc("zijingang-tech-renovation", {"tech_renovation_investment": "800万元"})
    assert calc.missing == ("请问贵公司（项目）是否位于紫金港科技城？",)
    assert calc.alternatives == (("若满足：紫金港科技城", Decimal(320_000)),)
    assert format_calculation(calc).splitlines()[0] == "计算紫金港科技城技术改造项目资助（第三十四条）还需要补充信息。"


def test_manufacturer_unknown_states_the_assumption_and_the_alternative():
    calc = _calc("export-credit-insurance", {"insurance_premium": "100万元"})
    assert calc.assumptions == ("按非制造业企业计算（资助比例上限60%）",)
    assert calc.alternatives == (("若为符合条件的制造业企业（资助比例上限65%）", Decimal(650_000)),)
    assert "- 若为符合条件的制造业企业（资助比例上限65%）：最高65万元" in format_calculation(calc)


def test_unknown_option_lists_every_amount():
    calc = _calc("scenic-area-rating", {})
    assert calc.missing == ("请问首次评定的是5A、4A还是3A级景区？",)
    assert calc.alternatives == (
        ("若为国家5A级景区", Decimal(500_000)),
        ("若为国家4A级景区", Decimal(300_000)),
        ("若为国家3A级景区", Decimal(200_000)),
    )


def test_rent_over_the_area_cap_is_prorated():
    calc = _calc("yunqi-rent", {**YQ, "annual_rent": "120万元", "area": "5000平方米"})
    assert calc.trace == (
        "承租面积5000㎡超过补助面积上限3000㎡，按比例折算：120万元 × 3000/5000 = 72万元/年；"
        "第1—2年：72万元/年 × 100% = 72万元/年 × 2年 = 144万元；第3—4年：72万元/年 × 50% = 36万元/年 × 2年 = 72万元；"
        "合计216万元，房租补助或减免216万元"
    )
    assert calc.assumptions == ("按完整补助期4年计算",)


def test_ic_rent_cumulative_cap():
    calc = _calc("zijingang-ic-rent", {**IC, "annual_rent": "120万元"})
    assert (
        calc.trace
        == "120万元/年 × 50% = 60万元/年 × 3年 = 180万元，超过累计上限150万元，按累计上限计150万元，租房补贴150万元"
    )


def test_hq_tiers_need_both_valuation_and_revenue():
    calc = _calc("yunqi-space-hq-award", {**YQ, "valuation": "20亿元", "revenue": "5亿元"})
    assert calc.trace == "市场估值20亿元（>15亿元）且营业收入5亿元（>4亿元），达到第三档，一次性奖励500万元"
    below = _calc("yunqi-space-hq-award", {**YQ, "valuation": "3亿元", "revenue": "8000万元"})
    assert [c.detail for c in below.conditions if c.status == "unmet"] == [
        "需要 >3亿元，实际 3亿元",
        "需要 >8000万元，实际 8000万元",
    ]


def test_fixed_asset_subsidy_says_half_is_paid_after_production():
    calc = _calc("yunqi-space-fixed-asset", {**YQ, "fixed_asset_investment": "5000万元"})
    assert calc.trace == "5000万元 × 20% = 1000万元，未超过上限2000万元，补贴1000万元（其中50%即500万元达产升规后拨付）"


def test_guarantee_fee_is_worded_as_a_fee_ceiling():
    calc = _calc("guarantee-fee", {"guarantee_amount": "1200万元"})
    assert (
        calc.trace == "融资担保金额1200万元超过上限1000万元，按1000万元计：1000万元 × 0.8% = 8万元，担保费不超过8万元"
    )
    assert format_calculation(calc).splitlines()[0] == "担保费最高为8万元（第二十条，融资担保费（上限））。"


def test_range_award_gives_the_top_and_the_range():
    calc = _calc("agri-tech-project", {"project_investment": "50万元"})
    assert (calc.amount_yuan, calc.amount_min_yuan, calc.is_maximum) == (Decimal(200_000), Decimal(100_000), True)
    assert format_calculation(calc).splitlines()[0] == (
        "最高可获20万元一次性补助（标准为10-20万元）（第五十八条，农业科技应用推广项目补助）。"
    )


def test_per_year_awards_say_so():
    calc = _calc("proof-of-concept-center-annual", {})
    assert (
        format_calculation(calc).splitlines()[0] == "每年最高可获500万元补助（第十六条，经认定概念验证中心年度补助）。"
    )


@pytest.mark.parametrize(
    ("rule_id", "inputs", "lead"),
    [
        (
            "zijingang-tech-renovation",
            {**ZJG, "tech_renovation_investment": "800万元"},
            "RMB 320,000 (32万元) under Article 34",
        ),
        ("rd-subsidy-sme", {"rd_increase": "1200万元"}, "Up to RMB 600,000 (60万元) under Article 14"),
        ("retail-catering-new", {"retail_sales": "9999万元"}, "Not eligible under Article 47"),
        ("scenic-area-rating", {}, "More information is needed to calculate the amount under Article 42"),
        ("guarantee-fee", {"guarantee_amount": "500万元"}, "The fee is at most RMB 40,000 (4万元) under Article 20"),
    ],
)
def test_english_lead_sentence(rule_id, inputs, lead):
    first = format_calculation(_calc(rule_id, inputs), "en").splitlines()[0]
    assert first.startswith(lead)


def test_describe_formula_states_the_method():
    assert describe_formula(find_rule(RULES, "rd-subsidy-sme")) == "按年度研发投入新增额的不超过5%计算，最高200万元"
    assert (
        describe_formula(find_rule(RULES, "yunqi-rent"))
        == "第1—2年按年房租额的100%，第3—4年按年房租额的50%，补助面积最高3000㎡"
    )
    assert (
        describe_formula(find_rule(RULES, "scenic-area-rating"))
        == "国家5A级景区：50万元；国家4A级景区：30万元；国家3A级景区：20万元"
    )


def test_to_dict_is_json_with_numbers():
    data = _calc("rd-subsidy-sme", {"rd_increase": "1200万元"}).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert (data["amount_yuan"], data["amount_text"], data["status"], data["is_maximum"]) == (
        600000,
        "60万元",
        "eligible",
        True,
    )
    assert data["conditions"][1] == {
        "name": "年度研发投入新增额",
        "status": "met",
        "detail": "需要 ≥200万元，实际 1200万元",
    }
    fee = _calc("trade-fair-overseas", {"airfare": "1.5万元"}).to_dict()
    assert fee["amount_yuan"] == 10500


# ----------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    "investment",
    [
        "800万元",
        "800万",
        "8000000",
        8_000_000,
        8_000_000.0,
        Decimal(8_000_000),
        "0.08亿元",
        "八百万元",
        "8 million yuan",
        "８００万元",
        "8,000,000",
    ],
)
def test_money_in_every_unit_gives_the_same_amount(investment):
    assert _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": investment}).amount_yuan == 320_000


@pytest.mark.parametrize("cagr", ["26%", 26, "26", 26.0, Decimal("0.26"), "百分之二十六"])
def test_percent_as_points_text_or_fraction(cagr):
    assert _calc("yunqi-rd-award", {**GROWTH, "revenue_cagr_3y": cagr, "rd_spend": "1000万元"}).amount_yuan == 300 * W


@pytest.mark.parametrize("years", ["五年", "5年", 5, "60个月", "5"])
def test_years_in_every_form(years):
    calc = _calc(
        "zijingang-biomed-equipment", {**BIOMED, "years_since_registration": years, "equipment_investment": "500万元"}
    )
    assert calc.amount_yuan == 20 * W


@pytest.mark.parametrize("area", ["5000平方米", "5000㎡", "5000平米", 5000, "5000"])
def test_area_in_every_form(area):
    assert _calc("yunqi-rent", {**YQ, "annual_rent": "120万元", "area": area}).amount_yuan == 216 * W


# ----------------------------------------------------------------------------- bad input


BAD_INPUTS = [
    ("negative", -5, "「技术改造项目总投资额」不能为负数（收到“-5”）。"),
    ("negative text", "-800万元", "「技术改造项目总投资额」不能为负数（收到“-800万元”）。"),
    ("huge", 1e30, "「技术改造项目总投资额」数值过大（收到“1e+30”），请核对单位。"),
    ("huge text", "1e30", "「技术改造项目总投资额」数值过大（收到“1e30”），请核对单位。"),
    ("text", "很多钱", "「技术改造项目总投资额」无法识别“很多钱”，请填写金额（如 800万元）。"),
    ("percent for money", "5%", "「技术改造项目总投资额」应为金额（如 800万元），收到“5%”。"),
    ("area for money", "3000平方米", "「技术改造项目总投资额」应为金额（如 800万元），收到“3000平方米”。"),
    ("two amounts", "800万元5%", "「技术改造项目总投资额」无法识别“800万元5%”，请填写金额（如 800万元）。"),
    ("nan", float("nan"), "「技术改造项目总投资额」不是有效数字（收到“nan”）。"),
    ("infinity", "inf", "「技术改造项目总投资额」无法识别“inf”，请填写金额（如 800万元）。"),
    ("bool", True, "「技术改造项目总投资额」应为金额（如 800万元），收到“True”。"),
    ("list", ["800万元"], "「技术改造项目总投资额」应为金额（如 800万元），收到“['800万元']”。"),
]


@pytest.mark.parametrize(("what", "value", "message"), BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_money_gives_a_chinese_message_and_no_amount(what, value, message):
    calc = _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": value})
    assert calc.amount_yuan is None
    assert calc.errors == (message,)
    assert calc.missing == (message + "请问技术改造（含新建）项目的总投资额（含设备、外购技术及软件）是多少？",)
    assert (
        format_calculation(calc).splitlines()[0] == "输入有误，暂无法计算紫金港科技城技术改造项目资助（第三十四条）。"
    )


def test_zero_is_not_eligible_and_says_why():
    calc = _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": 0})
    assert calc.amount_yuan == 0
    assert [(c.name, c.detail) for c in calc.conditions if c.status == "unmet"] == [
        ("技术改造项目总投资额", "需要 ≥500万元，实际 0元")
    ]
    unmet = [c.detail for c in _calc("trade-fair-overseas", {"booth_fee": 0}).conditions if c.status == "unmet"]
    assert unmet == ["需要 >0元，实际 0元"]


def test_missing_slot_asks_for_it():
    calc = _calc("rd-subsidy-sme", {})
    assert calc.amount_yuan is None
    assert calc.missing == ("请问贵公司本年度研发投入比上一年度新增了多少？",)


@pytest.mark.parametrize(
    ("slot", "value", "message"),
    [
        ("location", "火星", "「所在区域」无法识别“火星”，可选：紫金港科技城、云栖小镇、西溪谷、其他区域。"),
        ("newly_registered", "也许", "「是否新注册成立」请回答“是”或“否”，收到“也许”。"),
        ("rent_years", "3万元", "「补贴年数」应为年数（如 3年），收到“3万元”。"),
    ],
)
def test_bad_choices_flags_and_mixed_units_are_explained(slot, value, message):
    calc = _calc("zijingang-ic-rent", {**IC, "annual_rent": "80万元", slot: value})
    assert calc.amount_yuan is None
    assert calc.errors == (message,)


def test_count_must_be_whole():
    calc = _calc("incubator-graduate-award", {"incubator_graduates": 2.5})
    assert calc.errors == (
        "「通过高新技术企业或技术先进型服务企业备案的在孵（毕业1年内）企业家数」应为整数（收到“2.5”）。",
    )


def test_unknown_input_names_are_ignored_by_calculate():
    assert _calc("high-tech-first", {"weather": "sunny"}).amount_yuan == 20 * W


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(RULES), st.data())
def test_calculate_never_raises_whatever_the_input(rule, data):
    inputs = {slot.name: data.draw(JUNK) for slot in rule.inputs}
    calc = calculate(rule, inputs)
    assert calc.status in ("eligible", "ineligible", "incomplete")
    if calc.amount_yuan is None:
        assert calc.missing
    json.dumps(calc.to_dict(), ensure_ascii=False)
    format_calculation(calc)
    format_calculation(calc, "en")


# ----------------------------------------------------------------------------- CLI helper


def test_calc_command_computes():
    code, text = run_calc_command(
        "zijingang-tech-renovation", ["location=紫金港", "tech_renovation_investment=800万元"], RULES
    )
    assert code == 0
    assert text.splitlines()[0] == "可获32万元资助（第三十四条，紫金港科技城技术改造项目资助）。"


def test_calc_command_with_missing_input_exits_1_and_asks():
    code, text = run_calc_command("rd-subsidy-sme", [], RULES)
    assert code == 1
    assert "还需确认：请问贵公司本年度研发投入比上一年度新增了多少？" in text


def test_calc_command_unknown_rule_lists_close_ids():
    code, text = run_calc_command("rd-subsidy", ["rd_increase=1200万"], RULES)
    assert code == 2
    assert text.startswith("未找到规则“rd-subsidy”。相近的规则：")
    assert "rd-subsidy-sme" in text


@pytest.mark.parametrize(
    ("pairs", "start"),
    [(["rd_increase"], "参数“rd_increase”格式不对"), (["weather=sunny"], "规则 rd-subsidy-sme 没有输入“weather”。")],
)
def test_calc_command_usage_errors_exit_2_and_list_inputs(pairs, start):
    code, text = run_calc_command("rd-subsidy-sme", pairs, RULES)
    assert code == 2
    assert text.startswith(start)
    assert "rd_increase：年度研发投入新增额（金额，如 800万元）" in text


# ----------------------------------------------------------------------------- one year of a schedule


def test_one_year_of_a_rent_schedule_shows_that_year():
    calc = _calc("yunqi-rent", {**YQ, "annual_rent": "200万元", "area": "2000平方米", "rent_start_year": "3年"})
    assert calc.trace == "第3年：200万元/年 × 50% × 1年 = 100万元，房租补助或减免100万元"
    assert calc.assumptions == ()


def test_a_later_year_counts_what_earlier_years_paid_against_the_cumulative_cap():
    calc = _calc("zijingang-ic-rent", {**IC, "annual_rent": "120万元", "rent_start_year": "3年"})
    assert calc.trace == (
        "第3年：120万元/年 × 50% × 1年 = 60万元，第1—2年已补助120万元，累计上限150万元，按剩余额度计30万元，"
        "租房补贴30万元"
    )
    spent = _calc("zijingang-ic-rent", {**IC, "annual_rent": "160万元", "rent_start_year": "3年"})
    assert [(c.name, c.detail) for c in spent.conditions if c.status == "unmet"] == [
        ("累计补助上限", "需要 累计不超过150万元，实际 第1—2年已补助150万元")
    ]


def test_a_year_after_the_schedule_is_not_eligible():
    calc = _calc("yunqi-rent", {**YQ, "annual_rent": "120万元", "rent_start_year": "5年"})
    assert [(c.name, c.detail) for c in calc.conditions if c.status == "unmet"] == [
        ("补助年度（从第几年起）", "需要 第1—4年，实际 第5年")
    ]


# ----------------------------------------------------------------------------- several awards added up


def test_combined_awards_list_each_part_and_the_sum():
    parts = [_calc("postdoc-workstation", {"postdoc_level": "国家级"}), _calc("postdoc-independent-recruitment", {})]
    calc = combine(parts)
    assert (calc.amount_yuan, calc.status, calc.is_maximum, calc.article, calc.article_label) == (
        Decimal(150 * W),
        "eligible",
        False,
        "A19",
        "第十九条",
    )
    assert calc.rule_id == "postdoc-workstation+postdoc-independent-recruitment"
    assert calc.trace == (
        "新设立博士后工作站补助：国家级博士后工作站：补助100万元；"
        "博士后独立招收资格奖励：给予50万元奖励；合计：100万元 + 50万元 = 150万元"
    )
    assert calc.clause == (
        "对企业新设立的省级和国家级博士后工作站分别给予50万元、100万元补助；对获得博士后独立招收资格的企业,给予50万元奖励"
    )
    assert calc.parts == tuple(parts)
    assert format_calculation(calc).splitlines()[0] == (
        "合计可获150万元补助、奖励（第十九条，新设立博士后工作站补助、博士后独立招收资格奖励）。"
    )
    assert (
        format_calculation(calc, "en").splitlines()[0].startswith("RMB 1,500,000 (150万元) in total under Article 19")
    )


def test_a_maximum_part_makes_the_sum_a_maximum():
    calc = combine([_calc("high-tech-first", {}), _calc("high-tech-first-above-scale", {})])
    assert (calc.amount_yuan, calc.is_maximum) == (Decimal(50 * W), True)
    assert format_calculation(calc).startswith("合计最高可获50万元奖励（第十八条，")


@pytest.mark.parametrize(
    ("imported", "domestic", "total", "cap_text"),
    [
        ("400万元", "250万元", 45 * W, "合计：20万元 + 25万元 = 45万元，未超过合计上限50万元"),  # below the shared cap
        ("600万元", "200万元", 50 * W, "合计：30万元 + 20万元 = 50万元，恰好达到合计上限50万元"),  # at it
        (
            "800万元",
            "300万元",
            50 * W,
            "合计：40万元 + 30万元 = 70万元，超过合计上限50万元，按合计上限计50万元",
        ),  # above it
    ],
)
def test_robot_awards_share_one_cap_per_company(imported, domestic, total, cap_text):
    parts = [
        _calc("zijingang-robot-imported", {**ZJG, "robot_purchase": imported, "robot_origin": "进口"}),
        _calc("zijingang-robot-domestic", {**ZJG, "robot_purchase": domestic, "robot_origin": "国产"}),
    ]
    calc = combine(parts, shared_caps(RULES))
    assert calc.amount_yuan == Decimal(total)
    assert calc.trace.endswith(cap_text)


def test_shared_caps_come_from_cap_groups():
    assert shared_caps(RULES) == (
        SharedCap(frozenset({"zijingang-robot-imported", "zijingang-robot-domestic"}), Decimal(50 * W), "合计上限"),
    )


def test_an_ineligible_part_counts_zero_and_says_why():
    parts = [
        _calc("first-above-scale-industrial", {}),
        _calc("above-scale-sustained-growth", {"years_in_scale": "3年", "value_added_growth": "8%"}),
    ]
    calc = combine(parts)
    assert (calc.amount_yuan, calc.status) == (Decimal(20 * W), "eligible")
    assert calc.trace == (
        "工业企业首次上规纳统奖励：最高20万元一次性奖励；上规后连续3年在规且增加值增幅10%以上奖励：不符合条件"
        "（在规期间每年增加值增幅（最低一年）需要 ≥10%，实际 8%），计0元；合计：20万元 + 0元 = 20万元"
    )
    assert calc.notes == ("上规后连续3年在规且增加值增幅10%以上奖励不符合条件，未计入合计。",)
    assert all(condition.status != "unmet" for condition in calc.conditions)


def test_no_eligible_part_makes_the_sum_not_eligible():
    calc = combine(
        [
            _calc("zijingang-robot-imported", {**YQ, "robot_purchase": "100万元"}),
            _calc("zijingang-robot-domestic", {**YQ, "robot_purchase": "100万元"}),
        ]
    )
    assert (calc.amount_yuan, calc.status) == (Decimal(0), "ineligible")


def test_a_part_that_needs_information_leaves_the_sum_open_and_asks():
    calc = combine([_calc("high-tech-first", {}), _calc("postdoc-workstation", {})])
    assert (calc.amount_yuan, calc.status) == (None, "incomplete")
    assert calc.missing == ("请问新设立的是省级还是国家级博士后工作站？",)


def test_alternatives_of_a_part_are_given_as_totals():
    calc = combine(
        [
            _calc("export-credit-insurance", {"insurance_premium": "100万元"}),
            _calc("trade-fair-overseas", {"booth_fee": "10万元"}),
        ]
    )
    assert calc.amount_yuan == Decimal(67 * W)
    assert calc.alternatives == (
        ("若为符合条件的制造业企业（资助比例上限65%）（短期出口信用保险保费资助）", Decimal(72 * W)),
    )


def test_combined_to_dict_carries_the_parts():
    calc = combine([_calc("high-tech-first", {}), _calc("high-tech-renewal", {})])
    data = json.loads(json.dumps(calc.to_dict(), ensure_ascii=False))
    assert [part["rule_id"] for part in data["parts"]] == ["high-tech-first", "high-tech-renewal"]
    assert (data["amount_yuan"], data["amount_text"]) == (300000, "30万元")


def test_combine_needs_a_calculation_and_passes_one_through():
    single = _calc("high-tech-first", {})
    assert combine([single]) is single
    with pytest.raises(ValueError):
        combine([])


# ----------------------------------------------------------------------------- dev2 gaps: tiers, sums across articles, ranges


@pytest.mark.parametrize(
    ("inputs", "expected", "unmet"),
    [
        # a known figure below the lowest tier rules out every tier: not eligible, the revenue is not asked
        ({**YQ, "valuation": "2.5亿元"}, 0, ["需要 >3亿元，实际 2.5亿元"]),
        ({**YQ, "revenue": "8000万元"}, 0, ["需要 >8000万元，实际 8000万元"]),  # at 超过8000万: not above it
        ({**YQ, "valuation": "3.5亿元"}, None, []),  # above the lowest tier's valuation: the revenue decides
        ({**YQ, "valuation": "3.5亿元", "revenue": "8001万元"}, 100 * W, []),
        # the place is unknown, but no tier is met whatever it is: not eligible rather than "which place?"
        ({"valuation": "2.5亿元", "revenue": "1亿元"}, 0, ["需要 >3亿元，实际 2.5亿元"]),
        ({"valuation": "5亿元", "revenue": "6000万元"}, 0, ["需要 >8000万元，实际 6000万元"]),
    ],
)
def test_a_known_figure_below_every_tier_is_not_eligible(inputs, expected, unmet):
    calc = _calc("yunqi-space-hq-award", inputs)
    assert calc.amount_yuan == (None if expected is None else Decimal(expected))
    assert [c.detail for c in calc.conditions if c.status == "unmet"] == unmet
    assert bool(calc.missing) is (expected is None)


def test_a_single_calculation_names_its_article():
    calc = _calc("high-tech-first", {})
    assert (calc.articles, calc.article_labels, calc.to_dict()["articles"]) == (("A18",), "第十八条", ["A18"])


def test_a_sum_across_articles_cites_every_article():
    calc = combine([_calc("key-software-enterprise", {}), _calc("high-tech-first", {})])
    assert (calc.amount_yuan, calc.article, calc.articles, calc.article_labels) == (
        Decimal(220 * W),
        "A39",
        ("A39", "A18"),
        "第三十九条、第十八条",
    )
    lines = format_calculation(calc).splitlines()
    assert lines[0] == (
        "合计最高可获220万元一次性奖励、奖励（第三十九条、第十八条，"
        "首次入选国家鼓励的重点软件企业奖励、首次认定高新技术企业奖励）。"
    )
    assert lines[-1] == (
        "依据：第三十九条：“对首次入选的软件企业给予200万元一次性奖励”；"
        "第十八条：“对首次认定的高新技术企业,给予最高20万元奖励”"
    )
    assert (
        format_calculation(calc, "en")
        .splitlines()[0]
        .startswith("Up to RMB 2,200,000 (220万元) in total under Articles 39 and 18 (第三十九条、第十八条, ")
    )
    data = json.loads(json.dumps(calc.to_dict(), ensure_ascii=False))
    assert (data["article"], data["articles"]) == ("A39", ["A39", "A18"])


def test_a_sum_with_a_range_award_is_a_maximum_and_states_the_range():
    calc = combine([_calc("longjing-tea-purchase", {"tea_purchase": "8吨"}), _calc("longjing-frying-master", {})])
    assert (calc.amount_yuan, calc.amount_min_yuan, calc.is_maximum) == (Decimal(31 * W), Decimal(7 * W), True)
    assert format_calculation(calc).splitlines()[0] == (
        "合计最高可获31万元奖励（标准为7-31万元）（第五十九条，西湖龙井茶加工企业收购奖励、西湖龙井手工炒制大师奖励）。"
    )
    assert calc.trace == (
        "西湖龙井茶加工企业收购奖励：奖励标准为6-30万元，最高30万元；"
        "西湖龙井手工炒制大师奖励：给予1万元奖励；合计：30万元 + 1万元 = 31万元"
    )
    # every figure the answer states is in the calculator's output, so the answer's number guard can check it
    data = calc.to_dict()
    assert (data["amount_text"], data["amount_min_text"]) == ("31万元", "7万元")
    assert _calc("longjing-tea-purchase", {"tea_purchase": "6吨"}).to_dict()["amount_min_text"] == "6万元"


@pytest.mark.parametrize(("count", "amount"), [(1, 4 * W), (2, 8 * W), (3, 12 * W)])
def test_an_award_for_several_items_is_the_award_times_the_count(count, amount):
    calc = times(_calc("green-certification-new", {"certification_type": "green"}), Decimal(count), f"{count}个")
    assert calc.amount_yuan == Decimal(amount)
    if count > 1:
        assert calc.trace.endswith(f"，{count}个 × 4万元 = {amount // W}万元")


# ----------------------------------------------------------------------------- the condition an amount rests on


def test_a_premise_leads_an_eligible_answer_in_both_languages():
    calc = replace(
        _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "800万元"}),
        premise="若位于紫金港科技城",
    )
    assert format_calculation(calc).splitlines()[0] == (
        "若位于紫金港科技城，可获32万元资助（第三十四条，紫金港科技城技术改造项目资助）。"
    )
    assert format_calculation(calc, "en").splitlines()[0] == (
        "If the company is in 紫金港科技城: RMB 320,000 (32万元) under Article 34 (第三十四条, 紫金港科技城技术改造项目资助)."
    )
    assert calc.to_dict()["premise"] == "若位于紫金港科技城"


def test_a_premise_does_not_lead_an_answer_that_is_not_eligible():
    calc = replace(
        _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "300万元"}),
        premise="若位于紫金港科技城",
    )
    assert format_calculation(calc).splitlines()[0].startswith("不符合紫金港科技城技术改造项目资助（第三十四条）的条件")


def test_a_sum_keeps_the_premises_of_its_eligible_parts():
    renovation = replace(
        _calc("zijingang-tech-renovation", {**ZJG, "tech_renovation_investment": "800万元"}),
        premise="若位于紫金港科技城",
    )
    calc = combine([renovation, _calc("key-software-enterprise", {})])
    assert calc.premise == "若位于紫金港科技城"
    assert format_calculation(calc).splitlines()[0].startswith("若位于紫金港科技城，合计可获232万元")
