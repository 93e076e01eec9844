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


def run(*args: str, check: bool = True) -> int:
    print(f"\n$ qualcode {shlex.join(args)}", flush=True)
    code = subprocess.call([*QUALCODE, *args], cwd=ROOT)
    if check and code != 0:
        sys.exit(f"demo: `qualcode {shlex.join(args)}` failed with exit code {code}")
    return code


def main() -> None:
    if PROJECT.exists():
        shutil.rmtree(PROJECT)
    p = ["--project", str(PROJECT)]
    run("init", str(PROJECT), "--codebook", "emessi", "--language", "auto")
    transcripts = sorted(
        str(f.relative_to(ROOT))
        for f in EXAMPLES.iterdir()
        if f.suffix in {".txt", ".vtt", ".srt", ".docx", ".json"} and f.name != "README.md"
    )
    run("import", *transcripts, "--group", "demo", *p)
    audio = sorted((EXAMPLES / "audio").glob("*.wav")) + sorted((EXAMPLES / "audio").glob("*.flac"))
    for recording in audio:
        run(
            "transcribe", str(recording.relative_to(ROOT)), "--model", "tiny.en",
            "--language", "en", "--speakers", "auto", "--group", "demo-audio", *p,
        )
        run("show", recording.stem, "--no-pager", *p)
    run("sessions", *p)
    run("speakers", *p)
    run("suggest", "--top", "8", *p)
    run("report", *p)
    run("report", "--format", "xlsx", "--out", "demo-report.xlsx", "--chart", "demo-counts.png", *p)
    run("export", "qdpx", "demo.qdpx", *p)
    print(
        "\nDone. Wrote demo-report.xlsx, demo-counts.png and demo.qdpx.\n"
        f"Review the suggestions yourself: qualcode review --project {PROJECT.name}"
    )


if __name__ == "__main__":
    main()
