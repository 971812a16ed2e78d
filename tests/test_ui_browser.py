"""The app in a real browser: `python app.py` on a free port, driven by Playwright through Debian's chromium.

Expected texts come from the same server's JSON API, so the assertions hold for the real embedder (used when
the model folder exists) and the fake one alike. Screenshots of each tab go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
STARTUP_TIMEOUT_S = 240  # the real model loads and the index is built in a fresh data dir
XSS = "<img src=x onerror=alert(1)>"
HIGH_TECH = "首次认定的高新技术企业有什么奖励？"
RD_QUESTION = "科技型中小企业年度研发投入新增800万元，能拿多少研发补助？"


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    embedder: str

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path, json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _app_environment(data_dir: Path, port: int) -> tuple[dict[str, str], str]:
    """The environment for `python app.py`: the developer's XIHU_* settings, a throwaway data dir, this port,
    no auth, and the fake embedder only when the default model folder has not been built."""
    env = {**os.environ, "XIHU_HOST": "127.0.0.1", "XIHU_PORT": str(port), "XIHU_DATA_DIR": str(data_dir)}
    env["XIHU_AUTH_USER"] = ""
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    settings = Settings.from_env(environ=env)
    model_folder = settings.models_dir / settings.embedding_model
    if settings.embedder == "sentence-transformers" and not model_folder.is_dir():
        env["XIHU_EMBEDDER"] = "fake"
    return env, env.get("XIHU_EMBEDDER", settings.embedder)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = _free_port()
    env, embedder = _app_environment(data_dir, port)
    log_path = data_dir / "app.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer /healthz in {STARTUP_TIMEOUT_S}s")
            time.sleep(0.5)
        yield Server(url, data_dir, embedder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh page on the app; `page.dialogs` collects any alert/confirm/prompt that fires (none should)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(server.url + "/")
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def ask_in_page(page: Any, question: str, expected_answer: str) -> None:
    """Type the question, send it, and wait until the last reply is the whole expected answer."""
    from playwright.sync_api import expect

    page.fill("#question textarea", question)
    page.click("#send")
    expect(page.locator('#chatbot [data-testid="user"]').last).to_have_text(question)
    # innerText: the answer's line breaks are <br>, which textContent would drop
    expect(page.locator('#chatbot [data-testid="bot"]').last).to_have_text(expected_answer, use_inner_text=True)


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def choose(page: Any, dropdown: Any, option: str) -> None:
    """Pick an option of a Gradio dropdown by its exact label."""
    dropdown.click()
    page.get_by_role("option", name=option, exact=True).click()


# -- 政策问答 ---------------------------------------------------------------------------------------------
def test_an_answer_streams_in_with_citation_chips_and_a_calculation_card(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    expected = server.post("/api/ask", {"question": HIGH_TECH})
    assert expected["citations"] == ["A18"]
    ask_in_page(page, HIGH_TECH, expected["answer"])
    expect(page.locator("#chip-0")).to_have_text("📄 第十八条")
    expect(page.locator("#chip-1")).to_be_hidden()
    expect(page.locator("#calc-card .calc-amount")).to_have_text("奖励：最高20万元")
    expect(page.locator("#article-panel .panel-hint")).to_be_visible()

    page.click("#chip-0")
    expect(page.locator("#article-panel .article-head")).to_have_text("第十八条 · 健全科技企业梯度培育机制")
    expect(page.locator("#article-panel mark")).to_have_text(expected["evidence"][0]["quote"])
    screenshot(page, "chat.png")
    assert page.dialogs == []


def test_a_follow_up_question_carries_the_conversation(page: Any, server: Server) -> None:
    first = server.post("/api/ask", {"question": RD_QUESTION})
    history = [{"role": "user", "content": RD_QUESTION}, {"role": "assistant", "content": first["answer"]}]
    follow_up = server.post("/api/ask", {"question": "那新增1000万元呢？", "history": history})
    assert follow_up["amount_yuan"] == 500000.0
    ask_in_page(page, RD_QUESTION, first["answer"])
    ask_in_page(page, "那新增1000万元呢？", follow_up["answer"])


def test_an_example_question_is_asked_with_one_click(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    expected = server.post("/api/ask", {"question": "第二十七条讲的是什么？"})
    example = page.locator("#chatbot").get_by_role("button", name="第二十七条讲的是什么？")
    expect(example).to_be_visible()
    screenshot(page, "chat-start.png")
    example.click()
    expect(page.locator('#chatbot [data-testid="bot"]').last).to_have_text(expected["answer"], use_inner_text=True)
    expect(page.locator("#chip-0")).to_have_text("📄 第二十七条")


def test_thumbs_down_with_a_comment_is_saved_in_sqlite(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    expected = server.post("/api/ask", {"question": HIGH_TECH})
    ask_in_page(page, HIGH_TECH, expected["answer"])
    page.fill("#feedback-comment textarea", "没有说明申报时间")
    page.click("#vote-down")
    expect(page.locator("#feedback-status")).to_have_text("感谢反馈，我们会据此改进。（已记录）")
    expect(page.locator("#feedback-comment textarea")).to_have_value("")
    page.click("#vote-up")  # a second vote on the same answer is not stored
    expect(page.locator("#feedback-status")).to_have_text("这条回答您已经评价过了，谢谢！")

    with sqlite3.connect(server.data_dir / "feedback.sqlite3") as connection:
        rows = connection.execute("SELECT question, answer, citations, rating, comment FROM feedback").fetchall()
    assert rows == [(HIGH_TECH, expected["answer"], "A18", "down", "没有说明申报时间")]


def test_clearing_the_conversation_empties_chat_chips_and_panel(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    expected = server.post("/api/ask", {"question": HIGH_TECH})
    ask_in_page(page, HIGH_TECH, expected["answer"])
    page.click("#chip-0")
    page.click("#clear")
    expect(page.locator('#chatbot [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#chip-0")).to_be_hidden()
    expect(page.locator("#calc-card")).to_be_hidden()
    expect(page.locator("#article-panel .panel-hint")).to_be_visible()


def test_html_in_a_question_is_shown_as_text_and_never_runs(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    expected = server.post("/api/ask", {"question": XSS})
    page.evaluate("window.__xss = 0")
    payload = '<img src=x onerror="window.__xss=1">'
    ask_in_page(page, XSS, expected["answer"])
    ask_in_page(page, payload, server.post("/api/ask", {"question": payload})["answer"])
    expect(page.locator('#chatbot [data-testid="user"]').first).to_have_text(XSS)
    assert page.locator('#chatbot img[src="x"]').count() == 0
    page.wait_for_timeout(500)  # give a broken image time to fire onerror, were it rendered
    assert page.evaluate("window.__xss") == 0
    assert page.dialogs == []
    screenshot(page, "chat-html-as-text.png")


# -- 条款查询 ---------------------------------------------------------------------------------------------
def test_the_article_tab_looks_up_article_27_with_its_units_and_script(page: Any) -> None:
    from playwright.sync_api import expect

    from assistant import ui
    from assistant.notice import load_chunks

    a27 = next(c for c in load_chunks(Settings.from_env(environ={})) if c.id == "A27")
    open_tab(page, "条款查询")
    page.fill("#article-number textarea", "第二十七条")
    page.click("#article-jump")
    expect(page.locator("#article-view .article-head")).to_have_text("第二十七条 · 强化工业用地供应服务保障")
    expect(page.locator("#article-view .article-meta")).to_have_text(
        "所属部分：五大产业生态圈建设培育政策牵头单位：区发改经信局责任单位：市规划资源局西湖分局、区发改经信局"
    )
    expect(page.locator("#read-script textarea")).to_have_value(ui.read_out_script(a27))
    expect(page.locator("#read-script").get_by_role("button", name="Copy")).to_be_visible()

    page.fill("#keyword textarea", "研发投入")
    page.click("#keyword-search")
    expect(page.locator("#search-results .search-lead")).to_have_text("共6条包含“研发投入”：")
    expect(page.locator("#search-results mark").first).to_have_text("研发投入")
    screenshot(page, "articles.png")


def test_the_article_tab_browses_by_section_and_by_department(page: Any) -> None:
    from playwright.sync_api import expect

    open_tab(page, "条款查询")
    choose(page, page.locator("#section input"), "第二部分（科技创新政策）")
    expect(page.locator("#article-list label")).to_have_count(14)
    page.locator("#article-list").get_by_text("第十八条 健全科技企业梯度培育机制", exact=True).click()
    expect(page.locator("#article-view .article-head")).to_have_text("第十八条 · 健全科技企业梯度培育机制")

    choose(page, page.locator("#department input"), "区残联（1条）")
    expect(page.locator("#article-list label")).to_have_count(1)
    expect(page.locator("#article-list label")).to_have_text("第七十二条 支持推进“弱有众扶”")


def test_a_number_that_is_not_an_article_gets_a_hint(page: Any) -> None:
    from playwright.sync_api import expect

    open_tab(page, "条款查询")
    page.fill("#article-number textarea", XSS)
    page.click("#article-jump")
    expect(page.locator("#article-view .empty-hint")).to_have_text(
        f"没有找到“{XSS}”：本政策共72条，请输入1–72、二十七或第二十七条这样的条号。"
    )
    assert page.dialogs == []


# -- 奖补计算 ---------------------------------------------------------------------------------------------
def test_the_calculator_tab_computes_an_award_and_matches_a_profile(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    from assistant.ui import load_examples

    open_tab(page, "奖补计算")
    page.click("#rule input")
    page.keyboard.type("rd-subsidy-sme")
    page.get_by_role(
        "option", name="第十四条｜研发投入增量补助（科技型中小企业规模）（rd-subsidy-sme）", exact=True
    ).click()
    expect(page.locator("#rule-intro .calc-head")).to_have_text("第十四条 · 研发投入增量补助（科技型中小企业规模）")
    choose(page, page.get_by_label("经营规模"), "符合科技型中小企业认定标准")
    page.get_by_label("年度研发投入新增额（单位：元，可写“800万元”）").fill("800万元")
    page.click("#calc-run")
    expect(page.locator("#calc-result .calc-amount")).to_have_text("补助：最高40万元")
    expect(page.locator("#calc-result li.met")).to_have_count(2)

    _, profile = load_examples(Settings.from_env(environ={}).knowledge_dir)
    expected = server.post("/api/match", {"profile": profile})
    eligible = sum(1 for item in expected["items"] if item["status"] == "eligible")
    page.click("#match-run")
    expect(page.locator("#match-total")).to_have_text(f"可申报{eligible}项，合计约{expected['total_text']}")
    screenshot(page, "calc.png")


def test_the_calculator_says_which_condition_is_not_met(page: Any) -> None:
    from playwright.sync_api import expect

    open_tab(page, "奖补计算")
    page.click("#rule input")
    page.keyboard.type("rd-subsidy-sme")
    page.get_by_role(
        "option", name="第十四条｜研发投入增量补助（科技型中小企业规模）（rd-subsidy-sme）", exact=True
    ).click()
    choose(page, page.get_by_label("经营规模"), "符合科技型中小企业认定标准")
    page.get_by_label("年度研发投入新增额（单位：元，可写“800万元”）").fill("100万元")
    page.click("#calc-run")
    expect(page.locator("#calc-result .calc-amount")).to_have_text("不符合补助条件")
    expect(page.locator("#calc-result li.unmet")).to_have_text(
        "✗ 年度研发投入新增额：需要 ≥200万元，实际 100万元（不符合）"
    )
