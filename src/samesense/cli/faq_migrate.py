"""`samesense faq migrate SRC DST`: a bank copied between SQLite and PostgreSQL (samesense.faq.migrate)."""

from __future__ import annotations

from .parsing import HelpFormatter


def add_migrate(cmds) -> None:
    p = cmds.add_parser("migrate", help="copy a bank between SQLite and PostgreSQL, verified",
                        formatter_class=HelpFormatter,
                        description="Copies the bank SRC into DST (a file, or a postgresql://USER@HOST:PORT/DATABASE "
                        "address; what it leaves out comes from the PG* environment variables): settings, model "
                        "fingerprint, entries and questions with their ids, and the stored vectors as they are "
                        "(the model is not run), in one transaction; then reads both back and compares counts, "
                        "entries and vectors. DST must hold no entry. The unanswered-questions log is not copied.")
    p.add_argument("source", metavar="SRC", help="the bank to copy (a file or a postgresql:// address)")
    p.add_argument("destination", metavar="DST", help="where to copy it: created if missing, else it must be empty")
    p.set_defaults(func=run_migrate)


def run_migrate(args) -> int:
    from ..faq.migrate import migrate

    print(migrate(args.source, args.destination).to_text())
    return 0
