"""Synthetic group sessions with known speakers and words, from espeak-ng voices.

Why: the real recordings we may share are short (30 s), but the targets in
issue 3 are about a 10-minute group session (real-time factor, engine speed,
DER with four speakers). Real sessions are confidential, so this script
*generates* one: four clearly different espeak-ng voices take turns reading a
scripted peer-mentoring discussion about working alone in NGOs, with short
pauses. Because we place every sentence ourselves, the reference transcript
and the reference speaker turns (RTTM) are exact.

Writes ``<out>/<name>.wav`` (16 kHz mono, 16-bit), ``<name>.txt`` (one
``Speaker: text`` line per turn, the format ``qualcode import`` reads) and
``<name>.rttm``. ``--demo`` instead writes the short example recording used
by ``make demo``: ``examples/audio/emessi-en-demo.flac`` (~50 s, three voices)
with its ``.txt`` and ``.rttm``. Generated output is CC0.

Usage::

    python benchmarks/make_session.py                 # benchmarks/.cache/session.*
    python benchmarks/make_session.py --demo          # examples/audio/emessi-en-demo.*

Needs the ``espeak-ng`` program (Debian/Ubuntu: ``apt-get install espeak-ng``).
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: language+variant, pitch (0-99) and words per minute."""

    name: str
    voice: str
    pitch: int
    speed: int


# Different accents, variants (formants) and pitches so that a speaker
# encoder can tell them apart, as it would four real people.
VOICES = {
    "Anna": Voice("Anna", "en-us+f3", 65, 145),  # facilitator
    "Ben": Voice("Ben", "en-gb+m3", 30, 135),
    "Carla": Voice("Carla", "en-gb-scotland+f2", 55, 150),
    "David": Voice("David", "en-029+m7", 40, 145),
}

# A peer-mentoring session: a facilitator and three people who work alone in
# small NGOs, on prioritisation, support, work sharing, staff, funding and
# volunteers (the themes of the eMentoring pre-study, see docs).
SESSION: list[tuple[str, str]] = [
    ("Anna", "Welcome back, everyone. It is good to see all of you again for our third session."),
    (
        "Anna",
        "Last time we agreed to talk about how you decide what to do first when you work alone.",
    ),
    ("Anna", "Ben, would you like to start? You said your week had been rather hectic."),
    ("Ben", "Yes, thank you. Hectic is a polite word for it, honestly."),
    ("Ben", "I had the annual report due, two grant applications, and the summer camp to plan."),
    ("Ben", "And because I am the only employee, every email lands on my desk."),
    ("Ben", "I noticed that I kept answering small messages instead of doing the big things."),
    ("Anna", "That sounds familiar to many of us. What did you do in the end?"),
    ("Ben", "On Monday I wrote a list and put the deadlines next to each task."),
    ("Ben", "Then I blocked two mornings for the report and turned my phone off."),
    ("Ben", "It worked better than I expected, but I felt guilty about the unanswered calls."),
    ("Carla", "I know that guilt very well. In our association nobody tells me what can wait."),
    ("Carla", "The board meets once a month, and between meetings I decide everything myself."),
    ("Carla", "Sometimes I would love a colleague who could just say, leave that until Friday."),
    ("David", "For me the hardest thing is saying no to new projects."),
    ("David", "Our chairman comes up with a new idea every week, and they are all good ideas."),
    ("David", "But there is only one of me, and the ideas do not come with extra hours."),
    ("Anna", "So saying no is part of prioritising. How do you say no to your own board?"),
    ("David", "I have started to ask which of the current tasks we should drop instead."),
    ("David", "That usually makes the discussion much more realistic."),
    ("Carla", "That is a clever trick. I might steal that one."),
    ("Anna", "Let us move on to support. Who do you turn to when something goes wrong at work?"),
    ("Carla", "My supervisor is the chair of the board, and she lives in another town."),
    ("Carla", "We talk on the phone maybe once a month, and mostly about money."),
    ("Carla", "So in practice I have nobody to share the everyday worries with."),
    ("Ben", "I used to have work counselling, but the funding for it ended last year."),
    ("Ben", "It was the only place where someone asked how I was coping."),
    ("Ben", "Now I mostly talk to my partner, which is not really fair to him."),
    ("David", "I call a friend who runs a youth club in the next municipality."),
    ("David", "We are not colleagues on paper, but we understand each other's work."),
    ("David", "Sometimes we swap tips about forms and reports, sometimes we just complain."),
    ("Anna", "Peer support like that is exactly what these groups try to offer."),
    ("Anna", "How has it felt to have this group for the past few weeks?"),
    ("Carla", "Honestly, it has been the best part of my month."),
    ("Carla", "It helps to hear that the others struggle with the same things."),
    ("Ben", "I agree. I have stopped thinking that I am simply bad at my job."),
    ("Anna", "Now, sharing work. When you are the only employee, who can take over a task?"),
    ("David", "In theory the board members can help, they are volunteers after all."),
    ("David", "In practice they have their own jobs and families, and little time."),
    (
        "David",
        "I have learned to ask for very concrete things, like one evening or one phone call.",
    ),
    ("Ben", "We tried outsourcing our bookkeeping to an accounting firm this spring."),
    ("Ben", "It costs money, but it freed almost a day a month for me."),
    ("Ben", "The board was hesitant at first, but now they see it was worth it."),
    ("Carla", "Who covers for you when you are on holiday, though? That is my biggest problem."),
    ("Carla", "Last summer I answered emails from a campsite because nobody else could."),
    ("Anna", "That is a common story. Has anyone found a way to really switch off?"),
    ("David", "We agreed that the vice chair reads the email while I am away."),
    ("David", "She only answers the urgent messages and leaves everything else for me."),
    ("David", "It is not perfect, but I could actually rest for two weeks."),
    ("Anna", "Some of you also employ people. Carla, you hired an assistant recently?"),
    ("Carla", "Yes, a part-time assistant on a six-month contract, paid by a project grant."),
    ("Carla", "I had never recruited anyone before, so I had to learn everything at once."),
    ("Carla", "Writing the job advert, the interviews, the employment contract, the salary."),
    ("Carla", "Formally the board is the employer, but I am the one who guides her every day."),
    ("Ben", "How do you handle performance talks when you are not formally the boss?"),
    ("Carla", "We have short weekly check-ins, and the chair joins the longer talk twice a year."),
    ("Carla", "It is a bit awkward, but it makes the roles clearer for everyone."),
    ("David", "We had a conflict with a project worker once, and nobody knew who should act."),
    ("David", "Since then we have written down who is responsible for what in staff matters."),
    ("Anna", "That brings us to money, which several of you have mentioned already."),
    ("Anna", "How does funding shape your work at the moment?"),
    ("Ben", "Almost everything we do depends on one large grant from the state fund."),
    ("Ben", "Every autumn I wait for the decision and wonder whether my job continues."),
    ("Ben", "It is hard to plan anything beyond the next twelve months."),
    ("David", "Our project funding ends in December, and with it the second position."),
    ("David", "So I am trying to write a new application while finishing the old project."),
    ("David", "And the final report for the funder takes weeks, because they want numbers."),
    ("Carla", "The reporting is the worst part. Every funder wants a different template."),
    (
        "Carla",
        "I count participants, hours and outcomes, and then count them again in another way.",
    ),
    ("Anna", "Does the reporting ever help you, or is it only a burden?"),
    ("Carla", "Sometimes it helps, to be fair. Writing it down shows what we really achieved."),
    ("Ben", "I would like to hear about volunteers next. They are the heart of our work."),
    ("Anna", "Good idea. How do you find and keep your volunteers?"),
    ("Ben", "Recruiting is not the problem. Young people sign up after every school visit."),
    ("Ben", "Keeping them is harder. Many drop out after the first two or three shifts."),
    ("Ben", "I think they need more guidance at the start than I have time to give."),
    ("David", "We pair every new volunteer with an experienced one for the first month."),
    ("David", "It takes some organising, but far fewer of them quit."),
    ("Carla", "And thanking them matters so much. We hold a small party every December."),
    ("Carla", "Some volunteers have told me that the party is why they stay."),
    ("David", "We also give a written reference, which helps students when they apply for jobs."),
    ("Anna", "Motivating volunteers seems to be about feeling seen and appreciated."),
    ("Ben", "Yes, and about having a clear task, so they know what is expected."),
    ("Ben", "When the task is vague, they feel useless and they stop coming."),
    ("Anna", "Before we close, I want to ask how you are all coping, honestly."),
    ("David", "Most weeks I am fine, but in the spring I was close to burning out."),
    ("David", "I worked every evening and still felt that nothing was finished."),
    ("David", "My doctor told me to take a week off, and that was a wake-up call."),
    ("Anna", "Thank you for sharing that. It is not an easy thing to say out loud."),
    ("Carla", "I recognise the feeling. When you work alone, nobody notices when you are tired."),
    ("Carla", "There is no colleague at the coffee machine asking whether you are all right."),
    ("Ben", "For me it is the loneliness more than the workload."),
    ("Ben", "I can handle many tasks, but I miss having someone to plan things with."),
    ("Ben", "Sometimes I talk to myself in the office just to hear a voice."),
    ("Carla", "That made me laugh, Ben, because I do exactly the same thing."),
    ("Anna", "What helps you recover after a busy period?"),
    ("Carla", "Walking. I walk to work now, and it gives me time to think before the day starts."),
    ("David", "I try to keep my weekends free of email, although I do not always succeed."),
    ("Ben", "Sport helps me, and I have started to take a proper lunch break."),
    ("Ben", "It sounds small, but leaving the desk for half an hour changes the afternoon."),
    ("Anna", "Is there something your organisation could do to make it easier?"),
    ("David", "The board could check on my workload regularly, not only when there is a crisis."),
    ("Carla", "A clear job description would help. Mine was written ten years ago."),
    ("Carla", "Half of what I do today is not even mentioned in it."),
    ("Ben", "And training. I have not been to a single course in three years."),
    ("Ben", "There is never money or time for my own development."),
    ("Anna", "Competence, structure, coping and community, we have touched all four today."),
    (
        "Anna",
        "We have about ten minutes left. Let us each name one thing to try before we meet again.",
    ),
    ("Carla", "I will ask the chair for a monthly meeting that is not about money."),
    ("Carla", "Just about how the work is going and how I am doing."),
    ("David", "I will write a one-page list of what I do, so the board sees the whole picture."),
    ("David", "Then it will be easier to discuss what to drop when a new idea comes."),
    ("Ben", "I will block two mornings every week for the important work, not only this week."),
    ("Ben", "And I will ask the board about work counselling again in the next budget."),
    ("Anna", "Those are all realistic steps. I will send a short summary by email tomorrow."),
    ("Anna", "Next time we will talk about coping and how to recover after a busy season."),
    ("Carla", "Thank you, Anna. This was really helpful again."),
    ("David", "Thanks, everyone. See you in two weeks."),
    ("Ben", "Bye for now, and good luck with the reports."),
]

# The example recording for `make demo`: short, three voices.
DEMO_VOICES = {
    "Facilitator": Voice("Facilitator", "en-us+f3", 70, 155),
    "Mikko": Voice("Mikko", "en-gb+m3", 25, 145),
    "Sara": Voice("Sara", "en-gb-x-rp+f4", 50, 150),
}
DEMO: list[tuple[str, str]] = [
    ("Facilitator", "Welcome, both of you. Today we talk about volunteers and funding."),
    ("Mikko", "Thanks. Our volunteers are great, but keeping them is hard."),
    ("Mikko", "Many of them stop coming after a few shifts, and I have no time to guide them."),
    ("Sara", "We pair each new volunteer with an experienced one. It really helps."),
    ("Facilitator", "And how is the funding situation at the moment?"),
    ("Sara", "Our project grant ends in December, so my job ends too, unless we find new money."),
    ("Mikko", "Same here. I spend weeks on reports for the funder every year."),
    ("Facilitator", "With so much to do alone, how do you decide what comes first?"),
    ("Mikko", "I make a list every Monday and block two mornings for the big tasks."),
    ("Sara", "I have learned to say no to the board when they bring new ideas."),
    ("Facilitator", "Good. Next time we will talk about getting support. Thank you both."),
]


def _check_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit(
            "make_session: the espeak-ng program is not installed; "
            "install it (Debian/Ubuntu: sudo apt-get install espeak-ng) and rerun"
        )
    return exe


def synthesize(exe: str, voice: Voice, text: str):
    """One sentence as float32 16 kHz mono, leading/trailing silence trimmed."""
    import numpy as np
    from scipy.signal import resample_poly

    wav = subprocess.run(
        [exe, "-v", voice.voice, "-p", str(voice.pitch), "-s", str(voice.speed), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if rate != RATE:
        from math import gcd

        g = gcd(RATE, rate)
        x = resample_poly(x, RATE // g, rate // g).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0] : loud[-1] + 1] if len(loud) else x[:0]


def build(lines, voices, seed: int = 0):
    """The session audio and its turns ``(speaker, start, end, text)``."""
    import numpy as np

    exe = _check_espeak()
    rng = random.Random(seed)
    pieces = [np.zeros(int(0.5 * RATE), np.float32)]
    t = 0.5
    turns: list[list] = []
    for speaker, text in lines:
        clip = synthesize(exe, voices[speaker], text)
        same = bool(turns) and turns[-1][0] == speaker
        # short pauses inside a turn, longer ones (sometimes very short) between turns
        gap = rng.uniform(0.25, 0.45) if same else rng.uniform(0.3, 0.9)
        if turns:
            pieces.append(np.zeros(int(gap * RATE), np.float32))
            t += int(gap * RATE) / RATE
        start = t
        pieces.append(clip)
        t += len(clip) / RATE
        if same:
            turns[-1][2] = t
            turns[-1][3] += " " + text
        else:
            turns.append([speaker, start, t, text])
    pieces.append(np.zeros(int(0.5 * RATE), np.float32))
    return np.concatenate(pieces), [tuple(x) for x in turns]


def write(out: Path, name: str, audio, turns, fmt: str = "wav") -> Path:
    import numpy as np
    import soundfile

    out.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    media = out / f"{name}.{fmt}"
    soundfile.write(str(media), pcm, RATE, format=fmt.upper(), subtype="PCM_16")
    (out / f"{name}.txt").write_text("".join(f"{sp}: {text}\n" for sp, _, _, text in turns))
    (out / f"{name}.rttm").write_text(
        "".join(
            f"SPEAKER {name} 1 {s:.3f} {e - s:.3f} <NA> <NA> {sp} <NA> <NA>\n"
            for sp, s, e, _ in turns
        )
    )
    return media


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="write the make-demo example instead")
    parser.add_argument(
        "--out", type=Path, help="folder (default benchmarks/.cache or examples/audio)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.demo:
        audio, turns = build(DEMO, DEMO_VOICES, args.seed)
        media = write(
            args.out or ROOT / "examples" / "audio", "emessi-en-demo", audio, turns, "flac"
        )
    else:
        audio, turns = build(SESSION, VOICES, args.seed)
        media = write(args.out or ROOT / "benchmarks" / ".cache", "session", audio, turns)
    speakers = len({t[0] for t in turns})
    print(
        f"wrote {media} ({len(audio) / RATE:.1f} s, {speakers} speakers, {len(turns)} turns, "
        f"{media.stat().st_size / 1e6:.2f} MB) with .txt and .rttm"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
