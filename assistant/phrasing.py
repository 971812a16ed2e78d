"""How answers are worded: a direct lead sentence (Chinese, or English for English questions), then the quoted evidence.

Every number in these texts is copied from a chunk or from the calculator; nothing here invents a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Any

from assistant.records import Answer, Chunk, Citation
from assistant.vocabulary import notice_facts, pattern

_ASKS_ARTICLE = pattern("answer_asks_article")


def _notice_zh() -> str:
    """The notice's title in 《》, from knowledge/notice.yaml."""
    return notice_facts().title_quoted


def _hotline_zh() -> str:
    return notice_facts().hotline


# A sum and the few characters before it, where a cap word may stand ("给予最高20万元" is up to 20万元).
_MONEY = pattern("answer_money_in_clause")
_CAP = pattern("answer_cap_words")
_OVER = pattern("answer_threshold_over")
_AT_LEAST = pattern("answer_threshold_at_least")
_AT_LEAST_AFTER = pattern("answer_threshold_after")
_RANGE_FROM = pattern("answer_range_from")
# A condition that only opens at a sum: "全年纳统社零额达到1亿元、10亿元、20亿元以上" (the measure, the sums).
_THRESHOLD = pattern("answer_threshold")


def _units(chunk: Chunk) -> str:
    return "、".join(chunk.responsible_units) or "、".join(chunk.lead_units)


def _quote(chunk: Chunk, sentence: str) -> str:
    return f"原文（{chunk.label}）：“{sentence.strip()}”"


def _en_label(chunk: Chunk) -> str:
    if chunk.kind == "article":
        return f"Article {chunk.number} ({chunk.label})"
    if chunk.kind == "section":
        return f"Section {chunk.number} ({chunk.label})"
    return {"preamble": "the preamble (序言)", "closing": "the closing paragraph (结语)"}.get(chunk.kind, chunk.id)


_MONTHS_EN = "January February March April May June July August September October November December".split()


def _date_en(date: str) -> str:
    """2023年6月1日 -> 1 June 2023 (the text as it is when it is no such date)."""
    found = re.fullmatch(r"\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*", date)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        return date
    return f"{int(found.group(3))} {_MONTHS_EN[int(found.group(2)) - 1]} {found.group(1)}"


def yuan_words(amount: Decimal, currency: str = "yuan") -> str:
    """320000 -> '320,000 yuan'; the notice's targets in dollars (7.9亿美元) -> '790,000,000 US dollars'."""
    return f"{amount.normalize():,f} {currency}".replace(f".0 {currency}", f" {currency}")


def _en_values(window: str) -> str:
    """English rendering of the money values in a clause: 'up to 200,000 yuan (20万元)'."""
    scale = {
        "亿元": Decimal(10) ** 8,
        "亿": Decimal(10) ** 8,
        "万元": Decimal(10) ** 4,
        "万": Decimal(10) ** 4,
        "元": Decimal(1),
        "亿美元": Decimal(10) ** 8,
        "万美元": Decimal(10) ** 4,
        "美元": Decimal(1),
    }
    parts = []
    for match in _MONEY.finditer(window):
        before, number, unit = match.groups()
        amount = Decimal(number) * scale[unit]
        # "给予最高20万元": up to; "总投资额超过500万元", "社零额达到1亿元以上": what must be reached, not what is paid
        if _CAP.search(before):
            prefix = "up to "
        elif _AT_LEAST.search(before) or _AT_LEAST_AFTER.match(window, match.end()):
            prefix = "at least "
        else:
            prefix = "over " if _OVER.search(before) else ""
        currency = "US dollars" if unit.endswith("美元") else "yuan"
        if low := _RANGE_FROM.search(window, 0, match.start(2)):
            # "区级给予6-30万元奖励": a range, its lower end written without the unit
            start = Decimal(low.group(1)) * scale[unit]
            lowest = yuan_words(start, currency).removesuffix(f" {currency}")
            parts.append(f"{prefix}{lowest} to {yuan_words(amount, currency)} ({low.group(1)}-{number}{unit})")
            continue
        parts.append(f"{prefix}{yuan_words(amount, currency)} ({number}{unit})")
    return ", ".join(dict.fromkeys(parts))


def fact_answer(question: str, chunk: Chunk, window: str, sentence: str, language: str, wants: str = "") -> Answer:
    """Lead with the clause that answers, then quote its sentence. English leads restate the window's amounts
    in yuan, unless the question asks for a count, rate or date (then the amounts are not the answer)."""
    condition = _condition_lead(chunk, window, language)
    if condition:
        lead = condition
    elif language == "en":
        values = _en_values(window) if wants not in ("count", "percent", "date") else ""
        lead = f"According to {_en_label(chunk)}" + (f": {values}." if values else ":") + f" {window}。"
    else:
        # "托育这块是哪条？": the article is the answer, named with its title (支持推进“幼有善育”)
        named = (
            f"{chunk.label}（{chunk.title}）" if chunk.title and _ASKS_ARTICLE.search(question.lower()) else chunk.label
        )
        lead = f"根据{named}，{window}。"
    text = f"{lead}\n\n{_quote(chunk, sentence)}"
    if chunk.responsible_units:
        text += f"\n责任单位：{_units(chunk)}"
    return Answer(
        question, text, (chunk.id,), (Citation(chunk.id, chunk.label, sentence),), language=language, route="fact"
    )


def rivals_answer(
    question: str, chunk: Chunk, chosen: tuple[str, str], rivals: Sequence[tuple[str, str]], language: str
) -> Answer:
    """The question's words fit several clauses of the article that state different values ("高心企业第一次认定给
    多少": 高新技术企业 20万, 新雏鹰企业 50万): list each clause, in the notice's order, and ask which case is the
    user's, instead of picking one."""
    pairs = sorted((chosen, *rivals), key=lambda pair: (chunk.text.find(pair[1]), chunk.text.find(pair[0])))
    cases = "\n".join(f"- {window}" for window, _ in pairs)
    if language == "en":
        lead = f"{_en_label(chunk)} states different amounts for different cases; which one is yours?\n{cases}"
    else:
        lead = f"{chunk.label}对以下几种情形分别作了规定，您的问题对应哪一种？\n{cases}"
    quoted = list(dict.fromkeys(sentence for _, sentence in pairs))
    text = lead + "\n\n" + "\n".join(_quote(chunk, sentence) for sentence in quoted)
    if chunk.responsible_units:
        text += f"\n责任单位：{_units(chunk)}"
    evidence = tuple(Citation(chunk.id, chunk.label, sentence) for sentence in quoted)
    return Answer(question, text, (chunk.id,), evidence, language=language, route="fact")


def _condition_lead(chunk: Chunk, window: str, language: str) -> str:
    """When the clause found is only a condition that opens at a sum ("…全年纳统社零额达到1亿元、10亿元、20亿元
    以上的"), say plainly what it takes before quoting it: a milk-tea shop asking about support should read first
    that the award starts at 1亿元 of 社零额. Empty for any other window."""
    found = _THRESHOLD.search(window)
    if found is None or not window.rstrip("。 ").endswith("的"):
        return ""
    measure = found.group(1).strip()
    lowest = re.split(r"[、和及]", found.group(2))[0]
    who = re.sub(r"^对", "", window[: found.start()].strip(" ,，"))
    if language == "en":
        return (
            f"According to {_en_label(chunk)}, this support has a threshold: {measure} must reach at least "
            f"{_en_values(lowest)}" + (f"; it is for {who}." if who else ".")
        )
    return f"根据{chunk.label}，这项支持有门槛：{measure}要达到{lowest}以上才能申请" + (
        f"，对象是{who}。" if who else "。"
    )


def no_value_answer(question: str, chunk: Chunk, sentence: str, wants: str, language: str) -> Answer:
    """The notice speaks of the topic but gives no figure: say what it says, and that it states none."""
    what = {"amount": "具体金额或标准", "percent": "具体比例", "count": "具体数量", "date": "具体时间"}.get(
        wants, "具体数值"
    )
    lead = f"{_en_label(chunk)} mentions this but the notice does not state a figure. " if language == "en" else ""
    text = f"{lead}{chunk.label}提到了相关内容，但政策原文没有规定{what}。具体标准{_where_to_ask(chunk)}"
    return _refusal_citing(question, chunk, sentence, text, language, "no_value")


def unstated_answer(
    question: str, chunk: Chunk | None, sentence: str, what: str, what_en: str, language: str
) -> Answer:
    """The notice never gives this kind of information (申报材料, 电话, 截止日期): say so and where to ask; with
    the article the question is about, name it and its 责任单位 and quote the sentence on the topic."""
    lead_en = f"The notice does not state {what_en}. " if language == "en" else ""
    if chunk is None:
        text = f"{lead_en}{_notice_zh()}没有写{what}。请拨打{_hotline_zh()}咨询，或咨询相关责任部门。"
        return Answer(question, text, refused=True, language=language, route="unstated")
    text = f"{lead_en}{_notice_zh()}没有写{what}。相关政策见{chunk.label}，{_where_to_ask(chunk)}"
    return _refusal_citing(question, chunk, sentence, text, language, "unstated")


def uncovered_answer(question: str, topic: Sequence[str], closest: Sequence[Chunk], language: str) -> Answer:
    """The closest chunks hold none of the question's topic words: say the notice does not speak of it and offer
    them as the nearest articles, without quoting any of them as the answer."""
    named = "、".join(f"“{w}”" for w in topic[:4]) or "这个问题"
    offered = "；".join(f"{c.label}（{c.title}）" for c in closest)
    text = f"政策原文没有直接讲到{named}。"
    if offered:
        text += f"与问题最接近的条款是：{offered}，供参考。"
    text += f"如需确认，请拨打{_hotline_zh()}。"
    if language == "en":
        nearest = ", ".join(_en_label(c) for c in closest)
        text = f"The notice does not speak of this directly; the nearest articles are {nearest}. " + text
    return Answer(
        question,
        text,
        tuple(c.id for c in closest),
        tuple(Citation(c.id, c.label, c.title) for c in closest),
        refused=True,
        language=language,
        route="uncovered",
        notes=("refused: uncovered",),
    )


def _where_to_ask(chunk: Chunk) -> str:
    units = _units(chunk)
    return f"请咨询{units}或拨打{_hotline_zh()}。" if units else f"请拨打{_hotline_zh()}咨询。"


def _refusal_citing(question: str, chunk: Chunk, sentence: str, text: str, language: str, route: str) -> Answer:
    """A refusal that still points to the article it is about, quoting the sentence."""
    return Answer(
        question,
        f"{text}\n\n{_quote(chunk, sentence)}",
        (chunk.id,),
        (Citation(chunk.id, chunk.label, sentence),),
        refused=True,
        language=language,
        route=route,
    )


def article_answer(question: str, chunk: Chunk, language: str) -> Answer:
    """An article looked up by number: its title, section, units, then its full text."""
    body = chunk.text.strip()
    where = (
        f"属于第{_section_numeral(chunk)}部分“{chunk.section_title}”（由{'、'.join(chunk.lead_units)}牵头实施）"
        if chunk.section
        else ""
    )
    lead = (
        f"{chunk.label}是“{chunk.title}”，{where}，责任单位：{_units(chunk)}。"
        if chunk.kind == "article"
        else f"{chunk.label}：{chunk.title}。"
    )
    if language == "en":
        lead = f"{_en_label(chunk)} is “{chunk.title}”. " + lead
    text = f"{lead}\n\n原文（{chunk.label}）：{body}"
    return Answer(
        question, text, (chunk.id,), (Citation(chunk.id, chunk.label, body),), language=language, route="lookup"
    )


def titled_articles(question: str, chunks: Sequence[Chunk], words: Sequence[str], language: str) -> Answer:
    """ "人才相关的是哪条": the articles whose titles name the topic, each with its title and first sentence, saying
    which title words were matched so that a reader sees how the question was read."""
    named = "、".join(f"“{word}”" for word in words)
    listed = "、".join(f"{c.label}（{c.title}）" for c in chunks)
    text = f"标题中含{named}的条款有{len(chunks)}条：{listed}。"
    quotes = [(c, _opening(c)) for c in chunks]
    text += "\n\n" + "\n".join(_quote(c, sentence) for c, sentence in quotes)
    evidence = tuple(Citation(c.id, c.label, sentence) for c, sentence in quotes)
    return Answer(question, text, tuple(c.id for c in chunks), evidence, language=language, route="titled")


def _opening(chunk: Chunk) -> str:
    """An article's title and the sentence after it, the way a reader would start reading it out."""
    from assistant.extract import sentences

    return "".join(sentences(chunk)[:2]).strip()


def _section_numeral(chunk: Chunk) -> str:
    from assistant.numerals import int_to_cn

    return int_to_cn(chunk.section) if chunk.section else ""


def department_answer(question: str, chunk: Chunk, language: str) -> Answer:
    """Who is responsible: the article's 责任单位 and its section's lead department, or a section's lead."""
    if chunk.kind == "section":
        lead_units = "、".join(chunk.lead_units)
        text = f"{chunk.label}由{lead_units}牵头实施。"
        quote = chunk.text.strip().splitlines()[0]
    elif chunk.kind == "article":
        lead_units = "、".join(chunk.lead_units)
        text = (
            f"{chunk.label}（{chunk.title}）的责任单位是{_units(chunk)}；"
            f"该条属于第{_section_numeral(chunk)}部分“{chunk.section_title}”，由{lead_units}牵头实施。"
        )
        quote = chunk.text.strip()[-120:] if len(chunk.text.strip()) > 120 else chunk.text.strip()
    else:
        text = f"{_notice_zh()}由{notice_facts().issuer}印发，各领域政策由各自的区级牵头单位组织实施。"
        quote = chunk.text.strip()[:200]
    if language == "en":
        text = f"Responsible units for {_en_label(chunk)}: {_units(chunk)}. " + text
    text += f"\n\n{_quote(chunk, quote)}"
    return Answer(
        question, text, (chunk.id,), (Citation(chunk.id, chunk.label, quote),), language=language, route="department"
    )


def department_articles(question: str, unit: str, chunks: Sequence[Chunk], language: str) -> Answer:
    """The articles a department is responsible for (and sections it leads)."""
    if not chunks:
        return refusal(question, language, "unknown_department")
    listed = "、".join(c.label if c.kind == "section" else f"{c.label}（{c.title}）" for c in chunks)
    text = f"{unit}负责或牵头的内容共{len(chunks)}项：{listed}。"
    if language == "en":
        text = f"{unit} is responsible for {len(chunks)} items of the notice. " + text
    evidence = tuple(Citation(c.id, c.label, c.title) for c in chunks)
    return Answer(question, text, tuple(c.id for c in chunks), evidence, language=language, route="department_articles")


def document_answer(question: str, route: str, chunks: Mapping[str, Chunk], language: str) -> Answer:
    """Questions about the notice itself, answered from the preamble (what it is about, date, issuer, basis) or the
    closing paragraph (validity, total support)."""
    from assistant.vocabulary import notice_facts

    facts = notice_facts()
    pre, end = chunks["PRE"], chunks["END"]
    if route == "document_about":
        purpose = next((s for s in re.split(r"(?<=。)|\n", pre.text) if s.strip().startswith("为")), "").strip()
        sections = [chunks[f"S{n}"] for n in range(1, facts.section_count + 1) if f"S{n}" in chunks]
        areas = "、".join(s.title for s in sections)
        lead = (
            f"{facts.title_quoted}是{facts.issuer}于{facts.issued_zh}印发的政策文件，"
            f"共{facts.section_count}个领域、{facts.article_count}条：{areas}。"
        )
        lead_en = (
            f"It is the notice “{facts.title_en}” ({facts.title}) of {facts.issuer}, issued on {facts.issued.isoformat()}: "
            f"{facts.article_count} articles in {facts.section_count} policy areas ({areas}). "
        )
        total = next((s for s in re.split(r"(?<=。)", end.text.strip()) if "总额" in s), "").strip()
        about = _document_reply(question, pre, purpose or pre.text.strip()[:200], lead, lead_en, language)
        if not total:
            return about
        # the closing paragraph names the policy areas' count and their total support: quote it too
        return replace(
            about,
            answer=f"{about.answer}\n{_quote(end, total)}",
            citations=(pre.id, end.id),
            evidence=(*about.evidence, Citation(end.id, end.label, total)),
        )
    if route == "document_sections":
        # "一共涉及几个领域": the closing paragraph counts the policy areas; the lead names them
        areas = "、".join(chunks[f"S{n}"].title for n in range(1, facts.section_count + 1) if f"S{n}" in chunks)
        sentence = next((s for s in re.split(r"(?<=。)", end.text.strip()) if "个领域" in s), end.text.strip()[:120])
        lead = f"{facts.title_quoted}共{facts.section_count}个领域的政策、{facts.article_count}条：{areas}。"
        lead_en = f"The notice has {facts.section_count} policy areas and {facts.article_count} articles: {areas}. "
        return _document_reply(question, end, sentence.strip(), lead, lead_en, language)
    if route in ("document_date", "document_issuer"):
        lines = [line for line in pre.text.splitlines() if line.strip()]
        issuer = next((line for line in lines if line.endswith("人民政府")), "")
        date = next((line for line in lines if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", line.strip())), "")
        lead = f"{facts.title_quoted}由{issuer}于{date}印发（{lines[0]}）。"
        lead_en = (
            f"The notice was issued by {issuer} (Xihu District People's Government) on {_date_en(date)} ({date}). "
        )
        return _document_reply(question, pre, f"{issuer}\n{date}", lead, lead_en, language)
    if route == "document_recipients":
        lines = [line.strip() for line in pre.text.splitlines() if line.strip()]
        addressees = next((line for line in lines if line.endswith(("：", ":"))), lines[0])
        lead = f"{facts.title_quoted}由{facts.issuer}印发给{addressees.rstrip('：:')}。"
        lead_en = f"The notice is addressed to {addressees.rstrip('：:')}. "
        return _document_reply(question, pre, addressees, lead, lead_en, language)
    if route == "document_basis":
        sentence = next((s for s in re.split(r"(?<=。)|\n", pre.text) if "根据《" in s), pre.text).strip()
        basis = sentence[sentence.index("根据") :].split(",结合")[0].split("，结合")[0].strip("。")
        numbers = "、".join(re.findall(r"[^\s(（]+〔\d{4}〕\d+号", basis))
        lead = f"{facts.title_quoted}{basis}制定。"
        lead_en = f"The notice was made on the basis of the provincial and city notices ({numbers}). "
        return _document_reply(question, pre, sentence, lead, lead_en, language)
    sentences = [s for s in re.split(r"(?<=。)", end.text.strip()) if s]
    key = "有效" if route == "document_validity" else "总额"
    sentence = next((s for s in sentences if key in s), sentences[0])
    # Both leads quote the notice's own words: the validity clause, or the whole total-support sentence.
    if route == "document_validity":
        clause = next((c for c in re.split(r"[,，]", sentence) if "有效" in c), sentence).strip("。")
        year = re.search(r"(\d{4})年全年", clause)
        period = f"the whole of {year.group(1)} ({year.group(0)})" if year else "the period stated"
        whole = f"，即整个{year.group(1)}年度（到{year.group(1)}年底结束）" if year else ""
        lead = f"除标明具体实施期限的条款外，{clause}{whole}。"
        lead_en = f"Unless an article states its own period, the policies are valid for {period}. "
    else:
        total = re.search(r"\d+(?:\.\d+)?\s*(?:亿元|万元)", sentence)
        lead = sentence.strip()
        lead_en = (
            f"Apart from overlaps, the 7 policy areas' district support totals {total.group(0) if total else ''}. "
        )
    return _document_reply(question, end, sentence, lead, lead_en, language)


def merge_answers(parts: Sequence[Answer]) -> Answer:
    """One answer from several (a question asking two things about the notice): texts and citations joined."""
    if len(parts) == 1:
        return parts[0]
    citations = tuple(dict.fromkeys(c for part in parts for c in part.citations))
    evidence = tuple(e for part in parts for e in part.evidence)
    return Answer(
        parts[0].question,
        "\n\n".join(part.answer for part in parts),
        citations,
        evidence,
        language=parts[0].language,
        route=parts[0].route,
    )


def merge_asks(parts: Sequence[Answer]) -> Answer:
    """One answer to a question that asks two things in two sentences ("投几个项目？子基金要组建几支？"): each
    ask's lead first, in order, then each quote once."""
    if len(parts) == 1:
        return parts[0]
    leads = list(dict.fromkeys(part.answer.split("\n\n", 1)[0] for part in parts))
    tails = list(dict.fromkeys(part.answer.split("\n\n", 1)[1] for part in parts if "\n\n" in part.answer))
    merged = merge_answers(parts)
    evidence = tuple(dict.fromkeys(merged.evidence))
    return replace(merged, answer="\n".join(leads) + ("\n\n" + "\n\n".join(tails) if tails else ""), evidence=evidence)


def stated_sum_answer(question: str, figures: Sequence[tuple[Chunk, str, str, Any]], language: str) -> Answer:
    """The sum of sums of money the notice states ("龙井茶产业资金加上美丽乡村建设资金，一共多少"): the total, each
    figure with its clause, and the addition as a calculation record (so the number guard accepts the total)."""
    from assistant.amounts import format_money, format_money_en
    from assistant.calculator import Calculation

    total = sum((amount.value for _, _, _, amount in figures), Decimal(0))
    chunks = list({chunk.id: chunk for chunk, _, _, _ in figures}.values())
    labels = "、".join(chunk.label for chunk in chunks)
    trace = " + ".join(format_money(amount.value) for _, _, _, amount in figures) + f" = {format_money(total)}"
    if language == "en":
        where = ", ".join(_en_label(chunk) for chunk in chunks)
        lead = f"{format_money_en(total)} ({format_money(total)}) in total under {where}. "
    else:
        lead = ""
    lead += f"合计{format_money(total)}（{labels}）。计算：{trace}"
    quotes = "\n".join(_quote(chunk, clause) for chunk, clause, _, _ in figures)
    calculation = Calculation(
        rule_id="stated-sum",
        rule_name="原文所列资金合计",
        article=chunks[0].id,
        article_label=chunks[0].label,
        clause="；".join(clause for _, clause, _, _ in figures),
        amount_yuan=total,
        is_maximum=False,
        trace=trace,
        payout="资金",
        articles=tuple(chunk.id for chunk in chunks),
    )
    return Answer(
        question,
        f"{lead}\n\n{quotes}",
        tuple(chunk.id for chunk in chunks),
        tuple(Citation(chunk.id, chunk.label, clause) for chunk, clause, _, _ in figures),
        calculation=calculation,
        amount_yuan=float(total),
        language=language,
        route="stated_sum",
    )


def _document_reply(question: str, chunk: Chunk, quote: str, lead: str, lead_en: str, language: str) -> Answer:
    text = (lead_en + lead) if language == "en" else lead
    return Answer(
        question,
        f"{text}\n\n{_quote(chunk, quote)}",
        (chunk.id,),
        (Citation(chunk.id, chunk.label, quote),),
        language=language,
        route="document",
    )


@cache
def _refusals_zh() -> dict[str, str]:
    """The refusal for each reason, naming the notice and the hotline from knowledge/notice.yaml."""
    notice, hotline = _notice_zh(), _hotline_zh()
    return {
        "task": f"抱歉，我只能解答{notice}原文中的内容，不能代写材料、翻译、查询个人信息或替您做决定。具体事项请咨询相关责任部门或拨打{hotline}。",
        "personal_data": f"抱歉，我不能提供工作人员或其他个人的信息（姓名、电话、住址等）。政策咨询请拨打{hotline}或联系相关责任部门的公开渠道。",
        "other_document": f"抱歉，这个问题问的是其他文件的条款。我只能解答{notice}（{notice_facts().region}）中的内容，其他文件请查阅原文或拨打{hotline}。",
        "injection": f"抱歉，我只能依据{notice_facts().region}{notice}回答政策问题，不能执行与此无关的指令。",
        "other_region": f"抱歉，这个问题涉及其他地区。我只能解答{notice_facts().city}{notice_facts().region}{notice}中的内容，其他地区的政策请咨询当地政府或拨打{hotline}。",
        "other_year": f"抱歉，{notice}只规定文件所明确的实施年度的政策，不涉及其他年份的安排。其他年份的政策请关注区政府发布的新文件或拨打{hotline}。",
        "guard": f"抱歉，我无法从政策原文中核实这个答案，为避免误导不作回答。请拨打{hotline}或咨询相关责任部门。",
        "": f"抱歉，{notice_facts().region}{notice}没有涉及这个问题，我无法据此回答。建议拨打{hotline}，或咨询相关责任部门。",
    }


def _refusal_en() -> str:
    facts = notice_facts()
    return (
        f"Sorry, the Xihu District notice on high-quality economic development ({facts.title}) "
        f"does not cover this, so I cannot answer it. Please call {facts.hotline_en}. "
    )


def refusal(question: str, language: str, reason: str) -> Answer:
    """A polite refusal that says where to ask instead; never a number."""
    text = _refusals_zh().get(reason) or _refusals_zh()[""]
    if language == "en":
        text = _refusal_en() + text
    return Answer(question, text, refused=True, language=language, route="out_of_scope", notes=(f"refused: {reason}",))


def with_units(answer: Answer, chunks: Mapping[str, Chunk]) -> Answer:
    """The answer with the 责任单位 of the article it cites first, right after its lead line."""
    chunk = chunks.get(answer.citations[0]) if answer.citations else None
    if chunk is None or not _units(chunk):
        return answer
    lead, _, rest = answer.answer.partition("\n")
    line = f"责任单位（{chunk.label}）：{_units(chunk)}。"
    return replace(answer, answer=f"{lead}\n{line}\n{rest}" if rest else f"{lead}\n{line}")


def calculation_answer(question: str, outcome: Any, language: str, chunks: Mapping[str, Chunk]) -> Answer:
    """The calculator's result (or its question for a missing input), with the clause it applies."""
    from assistant.calculator import format_calculation

    calc = outcome.calculation
    if calc is None:
        article = outcome.rule.article if outcome.rule is not None else ""
        chunk = chunks.get(article)
        text = outcome.clarification or "请补充计算所需的信息。"
        if chunk is not None and outcome.rule is not None:
            text += f"\n\n{_quote(chunk, outcome.rule.clause)}"
            return Answer(
                question,
                text,
                (chunk.id,),
                (Citation(chunk.id, chunk.label, outcome.rule.clause),),
                # an uncertain reading: the calculation as read, no amount (the figures it shows are its own)
                calculation=getattr(outcome, "reading", None),
                language=language,
                route="clarify",
            )
        return Answer(question, text, language=language, route="clarify")
    text = format_calculation(calc, language)
    standard = _standard_lead(question, calc, language)
    if standard:  # the standard leads; its 计算方法 line would say it again
        text = "\n".join([standard, *(line for line in text.split("\n")[1:] if not line.startswith("计算方法："))])
    # A sum across articles cites each of them, in the order the calculation lists them.
    article_ids = tuple(dict.fromkeys(getattr(calc, "articles", ()) or (calc.article,)))
    evidence = tuple(
        Citation(
            aid, chunks[aid].label if aid in chunks else aid, calc.clause if aid == calc.article else chunks[aid].title
        )
        for aid in article_ids
    )
    amount = float(calc.amount_yuan) if calc.amount_yuan is not None else None
    return Answer(
        question,
        text,
        article_ids,
        evidence,
        calculation=calc,
        amount_yuan=amount,
        language=language,
        # no amount yet and a question for what is missing: the answer asks back ("还需确认：…新增了多少？"), unless the
        # question gave no figure at all: then the rule's standard is the answer ("前两年房租能补多少" -> 100%)
        route="rule" if standard else "clarify" if amount is None and calc.missing else "calculation",
    )


# The kinds of figure a user gives for a calculation; a question with none of them asks for the standard itself.
# A percentage is mostly the rule's own ("the 4% subsidy").
_GIVEN_FIGURES = ("money", "area", "weight")
_ASKS_THRESHOLD = pattern("calc_asks_threshold")


def _standard_lead(question: str, calc: Any, language: str) -> str:
    """The lead for a calculation that cannot be done because the question gives no figure at all ("云栖小镇新引进企业
    前两年房租能补多少？") or asks for the threshold ("门槛到底是多少"): whom the rule is for and its standard, then what
    to tell to get the amount. Empty when a figure was given and no threshold asked (then a missing input is asked
    for) or the rule has no formula to state."""
    from assistant.amounts import find_amounts

    if calc.status != "incomplete" or calc.errors or not calc.formula_text or calc.parts:
        return ""
    asks_threshold = _ASKS_THRESHOLD.search(question.lower())
    if not asks_threshold and any(amount.kind in _GIVEN_FIGURES for amount in find_amounts(question)):
        return ""
    if language == "en":
        return (
            f"The standard under Article {int(calc.article[1:])} ({calc.article_label}, {calc.rule_name}): for "
            f"{calc.applies_to}: {calc.formula_text}. Give the figures asked below and the amount can be computed."
        )
    return (
        f"{calc.rule_name}的标准（{calc.article_label}）：适用于{calc.applies_to}，{calc.formula_text}。"
        "告诉我下面所需的数字，可以算出具体金额。"
    )


def calculation_sources(calc: Any) -> str:
    """Everything the calculator said, as text the number guard may accept claims from."""
    data = calc.to_dict()
    parts = [str(v) for v in data.values() if isinstance(v, (str, int, float))]
    parts += [str(x) for v in data.values() if isinstance(v, (list, tuple)) for x in v]
    if calc.amount_yuan is not None:
        parts.append(f"{calc.amount_yuan}元")
    return "\n".join(parts)
