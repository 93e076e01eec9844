"""Suggestions: each signal on its own, the combined ranking, learning from
decisions, the stored model and the review queue."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qualcode.codebook import load_codebook
from qualcode.evaluate import read_gold, score_sets
from qualcode.models import Decision, Session, Transcript, Utterance
from qualcode.segment import segment_session
from qualcode.suggest import (
    load_suggester,
    maybe_retrain,
    review_queue,
    suggest_segments,
    suggestions_for,
    train,
    training_data,
)
from qualcode.suggest.engine import Suggester, suggestable_codes
from qualcode.suggest.rules import KeywordRules
from qualcode.suggest.text import detect_language, tokens

DATA = Path(__file__).parent / "data"

SMALL = """
name: small
version: 1
languages: [fi, en]
codes:
  - id: third_sector
    label: Third sector
    children:
      - id: volunteers
        label: {fi: Vapaaehtoiset, en: Volunteers}
        keywords: {fi: [vapaaehtoinen, talkoo*], en: [volunteer, thank them]}
        examples:
          fi: [Vapaaehtoisten sitouttaminen on vaikeaa.]
          en: [Keeping volunteers involved is hard.]
      - id: funding
        label: {fi: Rahoitus, en: Funding}
        keywords: {fi: [avustus, raha*, rahoitus loppuu], en: [grant, funding runs out]}
        examples:
          fi: [Avustus loppuu ensi vuonna eikä jatkosta ole tietoa.]
          en: [Our grant ends next year and there is no word about what comes next.]
"""


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("cb") / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_codebook(path)


def _rules(book) -> KeywordRules:
    return KeywordRules(suggestable_codes(book))


def test_tokens_are_the_token_regex_words() -> None:
    from qualcode.suggest.text import TOKEN

    texts = [
        "Don't split well-being, work/life or “quoted” words... 2024 a1b ½x",
        "Mä oon niinku -- ihan loppu!! Vapaa-aika? (sulkeissa) 'lainaus’",
        "tab\tseparated\nlines and trailing-",
    ]
    for text in texts:
        assert tokens(text) == TOKEN.findall(text.lower())
    assert tokens("Don't stop, well-being!") == ["don't", "stop", "well-being"]


def test_finnish_inflected_keyword_matches_by_lemma(small_book) -> None:
    rules = _rules(small_book)
    hits = rules.match(tokens("Meidän vapaaehtoisten määrä on laskenut."), "fi")
    assert [(rules.code_ids[h.code], h.explain()) for h in hits] == [
        ("volunteers", "vapaaehtoisten → vapaaehtoinen")
    ]
    # plain words in the wrong sense do not match
    assert rules.match(tokens("Vapaa-aika on tärkeää."), "fi") == []


def test_matchers_of_the_same_keywords_share_word_lookups(small_book, emessi) -> None:
    from scipy import sparse

    first, again, other = _rules(small_book), _rules(small_book), _rules(emessi)
    # a word no other test uses: the caches live as long as the process
    docs = [tokens("Vapaaehtoisten kvarkkitalkoot ja projektirahaa.")]
    words = list(dict.fromkeys(docs[0]))
    units = sparse.csr_matrix(np.ones((1, len(words)), dtype=np.float32))
    counts, _ = first.count_matrix(units, words, docs, ["fi"])
    # a retrain's new matcher finds the words already looked up ...
    assert set(words) <= set(again._vector_cache["fi"])
    assert np.array_equal(again.count_matrix(units, words, docs, ["fi"])[0], counts)
    # ... and a matcher of other keywords keeps its own
    assert "kvarkkitalkoot" not in other._vector_cache.get("fi", {})


def test_wildcard_compound_and_phrase_keywords(small_book) -> None:
    rules = _rules(small_book)
    explained = {
        h.explain() for h in rules.match(tokens("Talkoissa mietittiin projektirahaa."), "fi")
    }
    # wildcard by prefix, and Finnish compounds by their last part
    assert explained == {"talkoissa → talkoo*", "projektirahaa → raha*"}
    # only where the rest of the word is a word: suora|hankinta holds no raha
    assert rules.match(tokens("Ostettiin suorahankintana."), "fi") == []
    inflected = rules.match(tokens("Kysyttiin lomarahasta."), "fi")
    assert {h.explain() for h in inflected} == {"lomarahasta → raha*"}
    hyphenated = rules.match(tokens("Leader-rahat tuli."), "fi")
    assert {h.explain() for h in hyphenated} == {"leader-rahat → raha*"}
    phrase = rules.match(tokens("Kun rahoitus nyt loppuu, mitä sitten?"), "fi")
    assert "rahoitus nyt loppuu → rahoitus loppuu" in {h.explain() for h in phrase}
    english = rules.match(tokens("When the funding suddenly runs out we stop."), "en")
    assert {h.keyword for h in english} == {"funding runs out"}


def test_similarity_explains_itself(small_book) -> None:
    suggester = Suggester(small_book).fit()
    # no keyword of either code, but close to the funding example
    scores = suggester.score(["The grants end next year, no word about what comes next."], ["en"])
    funding = scores.codes.index("funding")
    assert scores.similarity[0, funding] > scores.similarity[0, 1 - funding]
    why = suggester.rationale(scores, 0, funding)
    assert "like: “Our grant ends next year" in why
    # a unit that is itself an example is not quoted back to the coder
    scores = suggester.score(
        ["Our grant ends next year and there is no word about what comes next."], ["en"]
    )
    assert scores.similarity[0, funding] > 0.99
    why = suggester.rationale(scores, 0, funding)
    assert "the same text was coded so before" in why and "like:" not in why


def test_only_leaf_codes_are_suggested(small_book, emessi) -> None:
    assert Suggester(small_book).fit().code_ids == ["volunteers", "funding"]
    ids = Suggester(emessi).code_ids
    assert "independent_work" not in ids and "third_sector" not in ids and len(ids) == 6


def test_combined_ranking_on_the_emessi_codebook(emessi) -> None:
    suggester = Suggester(emessi).fit()
    texts = [
        "Meidän vapaaehtoisista moni on jäänyt pois, eikä uusia tule tilalle.",
        "Hankkeen rahoitus päättyy joulukuussa ja haemme jatkoa säätiöltä.",
        "I never know what to do first, every single task feels urgent.",
        "Can everyone hear me now?",
    ]
    scores = suggester.score(texts, ["fi", "fi", "en", "en"])
    best = [scores.codes[int(np.argmax(row))] for row in scores.score]
    assert best[:3] == ["volunteers", "funding", "prioritisation"]
    assert scores.score[:3].max(axis=1).min() >= 0.5
    assert scores.score[3].max() < 0.5
    top = suggester.top(scores, 0)
    assert top[0][0] == "volunteers" and "matched: vapaaehtoisista" in top[0][2]
    assert [t[1] for t in top] == sorted((t[1] for t in top), reverse=True)


def test_language_detection() -> None:
    assert detect_language(tokens("Mä en tiedä mitä tehdä ensin.")) == "fi"
    assert detect_language(tokens("I don't know what to do first.")) == "en"


# A funding programme the codebook does not know ("Leader"): coders teach it.
LEARN_TRAIN = [
    ("Leader paid for the new sound system.", "funding"),
    ("Leader covers seventy percent of the village festival.", "funding"),
    ("We're waiting for Leader's decision about next year.", "funding"),
    ("Without Leader the music club wouldn't exist.", "funding"),
    ("Leader-ryhmä maksoi uudet äänentoistolaitteet.", "funding"),
    ("Leader kattaa seitsemänkymmentä prosenttia kyläjuhlista.", "funding"),
    ("Odotetaan Leaderin päätöstä ensi vuodesta.", "funding"),
    ("Ilman Leaderia musiikkikerhoa ei olisi.", "funding"),
    ("The village hall needs a new roof.", ""),
    ("Kyläjuhlat pidetään elokuussa.", ""),
    ("The music club meets on Tuesdays.", ""),
    ("Musiikkikerho kokoontuu tiistaisin.", ""),
    ("Our volunteers painted the village hall.", "volunteers"),
    ("Vapaaehtoiset siivosivat kylätalon.", "volunteers"),
    ("I never know what to do first on Mondays.", "prioritisation"),
    ("Kiire on niin kova, etten ehdi suunnitella.", "prioritisation"),
]
LEARN_TEST = [
    ("Leader rejected our plan this time.", "funding"),
    ("Leaderin päätös tulee kesäkuussa.", "funding"),
    ("Leader gives half for the new stage.", "funding"),
    ("Leader hylkäsi meidän esityksen.", "funding"),
    ("The new stage is finished.", ""),
    ("Uusi lava on valmis.", ""),
    ("Our volunteers built the new stage.", "volunteers"),
    ("En ehdi tehdä kaikkea, kiire painaa.", "prioritisation"),
]


def test_training_improves_held_out_f1_on_a_fixed_split(emessi) -> None:
    # the decisions alone, without the codebook's coded units
    emessi = replace(emessi, coded_units=None)
    base = Suggester(emessi).fit()
    ids = base.code_ids
    y = np.array([[c == code for c in ids] for _, code in LEARN_TRAIN], dtype=np.float32)
    texts = [t for t, _ in LEARN_TRAIN]
    learned = Suggester(emessi).fit(texts, None, y, np.ones_like(y, dtype=bool))
    test_texts = [t for t, _ in LEARN_TEST]
    truth = [[c] if c else [] for _, c in LEARN_TEST]

    def micro(s: Suggester) -> float:
        sc = s.score(test_texts)
        pred = [[c for c, v in zip(ids, row, strict=True) if v >= 0.5] for row in sc.score]
        return score_sets(truth, pred, ids)[1]

    before, after = micro(base), micro(learned)
    assert after > before + 0.1
    # what the decisions taught: "Leader" (a funder the codebook does not
    # know) now points to funding, in both languages
    funding = ids.index("funding")
    leader = [t for t, c in LEARN_TEST if t.startswith("Leader")]
    rise = learned.score(leader).score[:, funding] - base.score(leader).score[:, funding]
    assert len(leader) == 4 and rise.min() > 0.3
    assert learned.classifier_ is not None
    assert learned.classifier_.models_[ids.index("funding")] is not None
    # codes with too few decisions keep the codebook score alone
    assert learned.classifier_.models_[ids.index("hr_management")] is None
    scores = learned.score(test_texts[:1])
    why = learned.rationale(scores, 0, ids.index("funding"))
    assert re.search(r"learned from [\d,]+ decided units: ", why), why


def test_rationale_names_each_word_once_and_cuts_quotes_at_a_word() -> None:
    from qualcode.suggest.rules import Hit, distinct_hits
    from qualcode.suggest.text import shorten

    hits = [Hit(0, "tuki", "tukena"), Hit(0, "tukea", "tukena"), Hit(0, "apu", "apua")]
    hits += [Hit(0, "minun esimies", "mun esimies"), Hit(0, "minun esimies", "mun esimies")]
    assert distinct_hits(hits) == ["tukena → tuki", "apua → apu", "mun esimies → minun esimies"]
    quote = (
        "Meillä ei ole ketään kenelle työtä voisi jakaa, ja sähköpostit vain kasautuvat "
        "viikosta toiseen."
    )
    short = shorten(quote, 70)
    assert len(short) <= 70 and short.endswith("…")
    assert quote.startswith(short[:-1]) and quote[len(short) - 1] in " ,"
    assert shorten("Lyhyt.", 70) == "Lyhyt."


def test_the_same_decisions_give_the_same_model(emessi) -> None:
    # liblinear's random generator is shared between threads: models fitted
    # in parallel came out different on every run (and so did evaluate)
    book = replace(emessi, coded_units=None)
    ids = Suggester(book).fit().code_ids
    rows = read_gold(DATA / "emessi-dev3.csv", ids)
    y = np.array([[c in r.codes for c in ids] for r in rows], dtype=np.float32)
    texts, langs = [r.text for r in rows], [r.lang for r in rows]
    runs = [
        Suggester(book).fit(texts, langs, y, np.ones_like(y, dtype=bool)).score(texts[:60]).score
        for _ in range(3)
    ]
    assert all(np.array_equal(runs[0], other) for other in runs[1:])


def test_fast_scoring_of_learned_models_equals_their_design_matrix(emessi) -> None:
    # predict_proba scores the logistic models from their coefficients; it
    # must give what scikit-learn gives on the stacked design matrix
    ids = Suggester(emessi).fit().code_ids
    rows = LEARN_TRAIN * 4  # enough decisions for calibrated (3-fold) models
    y = np.array([[c == code for c in ids] for _, code in rows], dtype=np.float32)
    learned = Suggester(emessi).fit([t for t, _ in rows], None, y, np.ones_like(y, dtype=bool))
    clf = learned.classifier_
    assert clf is not None and clf._linear_models()
    assert any(hasattr(m, "calibrated_classifiers_") for m in clf.models_ if m is not None)
    texts = [t for t, _ in LEARN_TEST]
    fast = learned.score(texts).score
    clf._linear_models = lambda: None  # type: ignore[method-assign]
    slow = learned.score(texts).score
    assert np.allclose(fast, slow, atol=1e-5)
    assert not np.allclose(fast, learned.score(texts).prior)


def test_dense_example_blocks_give_the_sparse_product(emessi, monkeypatch) -> None:
    import pickle

    from qualcode.suggest.similarity import DenseExamples

    suggester = Suggester(emessi).fit()
    texts = [t for t, _ in LEARN_TEST]
    sims = suggester.similarity_
    dense = suggester.score(texts).similarity
    children = [child for child, _ in sims.by_lang_.values()]
    assert len(children) == 2  # fi and en examples: one index each
    assert all(isinstance(c.__dict__.get("_dense"), DenseExamples) for c in children)
    # the stored model keeps only the sparse matrix
    loaded = pickle.loads(pickle.dumps(sims))
    assert all("_dense" not in c.__dict__ for c, _ in loaded.by_lang_.values())
    # too large for dense blocks: the sparse product, with the same sums
    for child in children:
        child.__dict__.pop("_dense")
    monkeypatch.setattr(DenseExamples, "MAX_BYTES", 1000)
    sparse_sims = suggester.score(texts).similarity
    assert all(c.__dict__["_dense"] is c.transposed_ for c in children)
    assert np.allclose(dense, sparse_sims, atol=1e-6) and dense.max() > 0.2


def test_units_are_compared_with_examples_in_their_own_language() -> None:
    import pickle

    from scipy import sparse

    from qualcode.suggest.similarity import ExampleSimilarity

    rng = np.random.default_rng(0)
    examples = sparse.csr_matrix(rng.random((8, 5)).astype(np.float32))
    codes, langs = [1, 0, 1, 0, 0, 1, 1, 0], ["fi", "en", "en", "fi", "fi", "en", "fi", "en"]
    sims = ExampleSimilarity().fit(examples, codes, [f"t{i}" for i in range(8)], 2, langs)
    units = sparse.csr_matrix(rng.random((4, 5)).astype(np.float32))
    unit_langs = ["fi", "en", "sv", "fi"]
    exclude = [[6], [], [0], [0, 2]]  # example rows in the order given
    for model in (sims, pickle.loads(pickle.dumps(sims))):
        best, nearest = model.score(units, exclude=exclude, langs=unit_langs)
        full = (units @ examples.T).toarray()
        for i, lang in enumerate(unit_langs):
            for c in range(2):
                # a language without examples ("sv") is compared with all of them
                allowed = [
                    j
                    for j in range(8)
                    if codes[j] == c and lang in (langs[j], "sv") and j not in exclude[i]
                ]
                j = max(allowed, key=lambda k: full[i, k])
                assert best[i, c] == pytest.approx(full[i, j], abs=1e-6)
                assert model.text(int(nearest[i, c])) == f"t{j}"


def _project_with_session(project) -> int:
    store = project.store
    utterances = [
        Utterance("Meidän vapaaehtoiset on jo väsyneitä, uusia ei saada mukaan.", "Aino"),
        Utterance("Joo.", "Ville"),
        Utterance("Avustus loppuu ensi vuonna, ja raportti rahoittajalle on myöhässä.", "Ville"),
        Utterance("Mulla on liikaa tehtäviä, en tiedä mitä tehdä ensin.", "Aino"),
        Utterance("Kuuluuko mun ääni nyt?", "Kaisa"),
    ]
    sid = store.add_session(Session(name="s1", language="fi"), Transcript(utterances))
    segment_session(store, sid, project)
    return sid


def test_suggest_store_and_review_queue(project) -> None:
    sid = _project_with_session(project)
    store = project.store
    n = suggest_segments(store, project, session="s1")
    units = store.segments(sid, codable_only=True)
    assert n > 0 and len(units) == 4
    first = suggestions_for(store, units[0].id)
    # learned from the codebook's coded units once, and kept in the store
    assert first[0].code_id == "volunteers" and first[0].model_version == "model-1"
    assert "vapaaehtoiset" in first[0].rationale
    assert [s.score for s in first] == sorted((s.score for s in first), reverse=True)

    chrono = review_queue(store, "anna", session="s1", order="chronological")
    assert chrono == [u.id for u in units]
    uncertain = review_queue(store, "anna", session="s1")
    assert sorted(uncertain) == sorted(chrono)

    def closeness(uid: int) -> float:
        return max((1 - 2 * abs(s.score - 0.5) for s in suggestions_for(store, uid)), default=0)

    values = [closeness(u) for u in uncertain]
    assert values == sorted(values, reverse=True)
    only_funding = review_queue(store, "anna", code="funding")
    assert units[1].id in only_funding and units[3].id not in only_funding

    store.record_decision(Decision(units[0].id, "volunteers", "anna", "accepted"))
    store.record_decision(Decision(units[0].id, "funding", "ben", "added"))
    assert review_queue(store, "anna", disagreements=True) == [units[0].id]


def test_training_data_labels_and_stored_model(project) -> None:
    sid = _project_with_session(project)
    store = project.store
    units = store.segments(sid, codable_only=True)
    store.record_decision(Decision(units[0].id, "volunteers", "anna", "accepted"))
    store.record_decision(Decision(units[0].id, "funding", "anna", "rejected"))
    store.db.execute(  # a finished review (written by the review stage)
        "INSERT INTO reviews(segment_id, coder, status, at) VALUES (?, 'anna', 'done', 'now')",
        (units[1].id,),
    )
    store.record_decision(Decision(units[1].id, "funding", "anna", "added"))
    ids = Suggester(load_codebook(project.codebook_path)).code_ids
    segs, y, known = training_data(store, ids)
    assert [s.id for s in segs] == [units[0].id, units[1].id]
    v, f = ids.index("volunteers"), ids.index("funding")
    assert y[0, v] == 1 and known[0, v] and y[0, f] == 0 and known[0, f]
    assert not known[0, ids.index("support")]  # not reviewed: unknown, not negative
    assert y[1, f] == 1 and known[1].all() and y[1].sum() == 1  # reviewed: rest negative

    assert maybe_retrain(store, project, every=10) is None  # 3 decisions < 10
    report = maybe_retrain(store, project, every=3)
    assert report is not None and report.version == 1 and report.n_units == 2
    model, version = load_suggester(store, project)
    assert version == "model-1" and model.classifier_ is not None
    assert maybe_retrain(store, project, every=3) is None  # nothing new since

    report = train(store, project)
    assert report.version == 2 and report.n_decisions == 3


def test_a_model_trained_before_coded_units_existed_is_still_used(project) -> None:
    import hashlib
    import json
    import pickle

    # the project's codebook copy predates coded units: no coded_units key
    path = project.codebook_path
    text = path.read_text(encoding="utf-8").replace("coded_units: emessi-coded.csv\n", "")
    path.write_text(text, encoding="utf-8")
    book = load_codebook(path)
    assert book.coded_units is None
    codes = suggestable_codes(book)
    # the fingerprint as models were stamped before coded units existed
    payload = [[c.id, c.keywords, c.examples, c.label, c.description] for c in codes]
    stamped = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    ids = [c.id for c in codes]
    y = np.array([[c == code for c in ids] for _, code in LEARN_TRAIN], dtype=np.float32)
    old = Suggester(book).fit([t for t, _ in LEARN_TRAIN], None, y, np.ones_like(y, dtype=bool))
    assert old.fingerprint_ == stamped
    version = project.store.save_model_state("suggester", pickle.dumps(old), len(LEARN_TRAIN))
    model, label = load_suggester(project.store, project)
    assert label == f"model-{version}" and model.classifier_ is not None


def test_the_documented_settings_are_every_setting_with_its_default():
    """docs/suggestions.md shows the ``suggest:`` block a researcher copies
    into qualcode.yaml: it must name every setting with the real default."""
    import dataclasses
    import re
    from pathlib import Path

    import yaml

    from qualcode.suggest.options import SuggestOptions

    doc = (Path(__file__).parent.parent / "docs" / "suggestions.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(suggest:\n.*?)```", doc, re.S)
    assert block is not None
    shown = yaml.safe_load(block.group(1))["suggest"]
    defaults = {
        f.name: getattr(SuggestOptions(), f.name) for f in dataclasses.fields(SuggestOptions)
    }
    assert shown == defaults
