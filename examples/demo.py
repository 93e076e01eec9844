"""The main job on the bundled examples, as a researcher would run it.

Creates ``demo-project/`` (afresh each run), imports the example transcripts,
transcribes the example recording with speakers, segments and suggests codes,
shows the top suggestions with their rationale, and ends with the theme
counts, writing ``demo-report.xlsx``, ``demo-counts.png`` and ``demo.qdpx``.
Every step is a plain ``qualcode`` command, printed before it runs, so the
demo doubles as a walkthrough.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROJECT = ROOT / "demo-project"
QUALCODE = [sys.executable, "-m", "qualcode.cli.main"]


def run(*args: str, check: bool = True, keys: str | None = None) -> int:
    typed = f"   (typing: {keys!r})" if keys else ""
    print(f"\n$ qualcode {shlex.join(args)}{typed}", flush=True)
    code = subprocess.run([*QUALCODE, *args], cwd=ROOT, input=keys, text=True).returncode
    if check and code != 0:
        sys.exit(f"demo: `qualcode {shlex.join(args)}` failed with exit code {code}")
    return code


def main() -> None:
    if PROJECT.exists():
        shutil.rmtree(PROJECT)
    p = ["--project", str(PROJECT)]
    run("init", str(PROJECT), "--codebook", "emessi", "--language", "auto")
    # the language of a transcript file is the researcher's to state
    run("import", "examples/emessi-fi-session1.txt", "--language", "fi", "--group", "demo", *p)
    run("import", "examples/emessi-en-session1.vtt", "--language", "en", "--group", "demo", *p)
    audio = sorted((EXAMPLES / "audio").glob("*.wav")) + sorted((EXAMPLES / "audio").glob("*.flac"))
    for recording in audio:
        run(
            "transcribe",
            str(recording.relative_to(ROOT)),
            "--model",
            "tiny.en",
            "--language",
            "en",
            "--speakers",
            "auto",
            "--group",
            "demo-audio",
            *p,
        )
        run("show", recording.stem, "--no-pager", *p)
    run("sessions", *p)
    run("speakers", *p)
    run("suggest", "--top", "2", *p)
    # a coder reviews the first ten units of the Finnish session in the plain
    # review loop, accepting the suggestions as shown (key `a`), then quits
    run(
        "review",
        "--plain",
        "--coder",
        "demo-coder",
        "--order",
        "chronological",
        "--session",
        "emessi-fi-session1",
        *p,
        keys="a\n" * 10 + "q\n",
    )
    run("report", "--format", "xlsx", "--out", "demo-report.xlsx", "--chart", "demo-counts.png", *p)
    run("export", "qdpx", "demo.qdpx", *p)
    run("report", *p)
    print(
        "\nDone. Wrote demo-report.xlsx, demo-counts.png and demo.qdpx.\n"
        f"Review the suggestions yourself: qualcode review --project {PROJECT.name}"
    )


if __name__ == "__main__":
    main()
