"""Knowledge search: ranking, typos, "I don't know", learning, updates, concurrency.

Focused unit tests of bot/knowledge.py (the ranking logic is dense); the entries are built here,
independent of the shipped content/.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from dataclasses import replace

import pytest
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot import knowledge
from bot.content.entries import KnowledgeEntry
from bot.knowledge import Hit, KnowledgeIndex, normalise_wording
from bot.knowledge_classifier import MAX_ENTRIES, WordingClassifier

ENTRIES = [
    KnowledgeEntry(
        "vpn-password",
        "Reset your VPN password",
        "Open the self-service portal, choose VPN, then Reset password.",
        questions=("vpn says my password expired", "can't log in to the vpn"),
        tags=("it", "vpn"),
    ),
    KnowledgeEntry(
        "wifi-guest",
        "Connect a guest to the office wifi",
        "Guests use the Visitors network; the code is at reception.",
        questions=("what is the guest wifi code",),
        tags=("it", "wifi"),
    ),
    KnowledgeEntry(
        "expenses",
        "Submit an expense report",
        "Photograph receipts in the expenses app and submit before the 5th.",
        questions=("how do i get reimbursed for travel",),
        tags=("finance",),
    ),
    KnowledgeEntry(
        "pto-request",
        "Request paid time off",
        "Ask your manager in the HR portal at least two weeks ahead.",
        questions=("how do i book vacation days",),
        tags=("hr",),
    ),
    KnowledgeEntry(
        "payslip",
        "Find your payslip",
        "Payslips are in the HR portal under Pay, on the last working day.",
        tags=("hr", "pay"),
    ),
    KnowledgeEntry(
        "printer",
        "Add the office printer",
        "Open Settings, Printers, Add; pick Floor-2-Color.",
        questions=("printer not showing up",),
        tags=("it",),
    ),
    KnowledgeEntry(
        "parking",
        "Book a parking space",
        "Use the parking app; spaces open a week ahead.",
        tags=("facilities",),
    ),
    KnowledgeEntry(
        "laptop-new",
        "Order a new laptop",
        "Raise a hardware request; standard models ship in three days.",
        questions=("my laptop is too slow, can i get a new one",),
        tags=("it", "hardware"),
    ),
    KnowledgeEntry(
        "onboarding",
        "Your first week",
        "Meet your buddy, finish security training, set up your accounts.",
        questions=("what should i do on my first day",),
        tags=("hr",),
    ),
    KnowledgeEntry(
        "security-phishing",
        "Report a phishing email",
        "Use the Report button in your mail client, then delete the message.",
        questions=("i got a suspicious email",),
        tags=("security",),
    ),
    KnowledgeEntry(
        "meeting-rooms",
        "Book a meeting room",
        "Rooms are booked from the calendar: add a room as a guest.",
        tags=("facilities",),
    ),
    KnowledgeEntry(
        "password-manager",
        "Use the company password manager",
        "Install the browser extension and sign in with single sign-on.",
        tags=("it", "security"),
    ),
]


@pytest.fixture
def index() -> KnowledgeIndex:
    return KnowledgeIndex.from_entries(ENTRIES)


def slugs(hits: list[Hit]) -> list[str]:
    return [hit.slug for hit in hits]


def test_exact_title_ranks_first_and_is_confident(index: KnowledgeIndex) -> None:
    for entry in ENTRIES:
        hits = index.search(entry.title)
        assert hits[0].slug == entry.slug, (entry.title, hits)
        assert hits[0].confident
        assert hits[0].title == entry.title


def test_scores_are_ordered_and_between_zero_and_one(index: KnowledgeIndex) -> None:
    hits = index.search("book a room for the meeting", limit=10)
    assert hits and len(hits) <= 10
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert all(0.0 <= hit.score <= 1.0 for hit in hits)


def test_typos_still_find_the_entry(index: KnowledgeIndex) -> None:
    hits = index.search("how do i resset my vpn pasword")
    assert hits[0].slug == "vpn-password"
    assert hits[0].confident


def test_a_misspelt_word_is_corrected_as_against_every_known_word(index: KnowledgeIndex) -> None:
    """The corrections come from the known words that can be that close (length, letters),
    not all of them; they must be the ones a comparison with every known word gives: the
    closest (one edit, two for long words), then the earliest known, the most used first."""
    lexicon = index._snapshot.lexicon
    for word in (
        "pasword",
        "guesd",
        "passwrod",
        "reimbursd",
        "vacaton",
        "printre",
        "secruity",
        "laptpo",
    ):
        edits = 2 if len(word) >= 8 else 1
        found = process.extract(
            word, lexicon.surfaces, scorer=OSA.distance, score_cutoff=edits, limit=None
        )
        closest = sorted((distance, at, choice) for choice, distance, at in found)[:9]
        nearest = [choice for distance, _, choice in closest if distance == closest[0][0]]
        nearest.sort(key=lambda w: -lexicon.frequency.get(w, 0))
        assert nearest, word
        assert index._corrections(word, lexicon) == nearest[:3], word


def test_unrelated_question_is_not_confident(index: KnowledgeIndex) -> None:
    hits = index.search("what is the airspeed of a swallow")
    assert not any(hit.confident for hit in hits)


def test_question_of_only_stopwords_finds_nothing(index: KnowledgeIndex) -> None:
    assert index.search("how do i do it?") == []
    assert index.search("") == []


def test_learn_makes_a_novel_wording_rank_first(index: KnowledgeIndex) -> None:
    # A word of the team's own (no entry has it, and it means nothing to the embeddings
    # either: "earnings statements" would already find the payslip entry by meaning).
    novel = "Where does my zorblax live?"
    assert "payslip" not in slugs(index.search(novel))[:1]

    assert index.learn("payslip", novel) is True

    hits = index.search("where does the zorblax live")
    assert hits[0].slug == "payslip"
    assert hits[0].matched == normalise_wording(novel)
    learned = index.get("payslip")
    assert learned is not None and learned.learned == ("where does my zorblax live",)


def test_learn_is_idempotent(index: KnowledgeIndex) -> None:
    assert index.learn("payslip", "earnings statements") is True
    assert index.learn("payslip", "  Earnings   STATEMENTS?! ") is False
    assert index.learn("payslip", "find your payslip") is False  # already the title
    assert index.learn("payslip", " ?! ") is False
    entry = index.get("payslip")
    assert entry is not None and entry.learned == ("earnings statements",)


def test_learn_an_unknown_slug_raises(index: KnowledgeIndex) -> None:
    with pytest.raises(KeyError):
        index.learn("no-such-entry", "anything")


def test_normalise_wording() -> None:
    assert normalise_wording("  VPN keeps\tfailing?!  ") == "vpn keeps failing"
    assert normalise_wording("¿Où est le wifi?") == "où est le wifi"


def test_upsert_replaces_text_and_searches_reflect_it_once_built(index: KnowledgeIndex) -> None:
    # Not the answer before (by meaning, parking is somewhat near bicycles, so it may be listed).
    assert "parking" not in slugs(index.search("bicycle shed"))[:1]

    index.upsert(
        replace(ENTRIES[6], title="Park your bicycle", body="The bicycle shed is behind B.")
    )
    assert index.get("parking").title == "Park your bicycle"  # type: ignore[union-attr]
    index.settle()  # the builder thread rebuilt BM25 and the wordings

    assert index.search("bicycle shed")[0].slug == "parking"
    assert index.get("parking") is not None
    assert index.get("parking").title == "Park your bicycle"  # type: ignore[union-attr]
    assert (
        index.search("Book a parking space")[0].slug != "parking"
        or not index.search("Book a parking space")[0].confident
    )
    assert len(index) == len(ENTRIES)


def test_one_rebuild_per_change_batch_not_per_search(index: KnowledgeIndex) -> None:
    index.search("warm up")
    built = index.rebuilds
    for question in ("vpn", "printer", "payslip"):
        index.search(question)
    assert index.rebuilds == built

    with index.batch():
        index.upsert(KnowledgeEntry("canteen", "Canteen menu", "The menu is on the intranet."))
        index.upsert(KnowledgeEntry("gym", "Office gym hours", "Open 7 to 21."))
        index.learn("gym", "when can i work out")
    index.settle()
    for question in ("canteen menu", "gym hours", "work out", "vpn"):
        index.search(question)
    assert index.rebuilds == built + 1
    assert index.search("when can i work out")[0].slug == "gym"
    assert len(index) == len(ENTRIES) + 2


def test_learning_does_not_rebuild(index: KnowledgeIndex) -> None:
    index.search("warm up")
    built = index.rebuilds
    for n in range(20):
        index.learn("printer", f"printer problem number {n}")
        index.search("printer problem")
    assert index.rebuilds == built


def test_learned_wordings_sealed_in_the_background_rank_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The builder seals learned wordings into the compressed postings once there are enough;
    searches must rank exactly as from the appended ones, learned before or after the seal."""
    taught = [
        ("printer", "the printer on floor two jams"),
        ("vpn-password", "remote access keeps asking for my code"),
        ("wifi-guest", "visitor needs internet"),
        ("expenses", "claim my taxi back"),
        ("parking", "where can i leave my car"),
        ("pto-request", "holiday booking"),
    ]
    unsealed = KnowledgeIndex.from_entries(ENTRIES)  # 6 learned: far below the default
    for slug, wording in taught:
        unsealed.learn(slug, wording)
        unsealed.settle()
    monkeypatch.setattr(knowledge, "RESEAL_AFTER_AT_LEAST", 4)
    sealed = KnowledgeIndex.from_entries(ENTRIES)
    for slug, wording in taught:
        sealed.learn(slug, wording)
        sealed.settle()
    assert sealed._wordings.grams.sealed_count > unsealed._wordings.grams.sealed_count
    assert sealed._wordings.grams.view[1], "the last wordings stay appended until there are 4"
    questions = [wording for _, wording in taught] + [
        "printer jams",
        "internet for a visitor",
        "taxi claim",
        "car park",
        "vpn code",
    ]

    def lexical(hits: list[Hit]) -> list[tuple[str, float, float, str]]:
        # The classifier's vote varies a little between trainings (LinearSVC is unseeded).
        return [(hit.slug, hit.shared, hit.meaning, hit.matched) for hit in hits]

    for question in questions:
        assert lexical(sealed.search(question)) == lexical(unsealed.search(question)), question

    # A wording learned while the builder seals stays searchable after the seal is swapped in.
    wordings = sealed._wordings
    count = wordings.count
    pending = [
        (postings, postings.sealed_up_to(count)) for postings in (wordings.terms, wordings.grams)
    ]
    for index in (sealed, unsealed):
        index.learn("meeting-rooms", "somewhere quiet for the team call")
        index.settle()
    with sealed._lock:
        for postings, up_to in pending:
            postings.reseal(up_to, count)
    question = "quiet place for a team call"
    assert lexical(sealed.search(question)) == lexical(unsealed.search(question))
    assert sealed.search(question)[0].slug == "meeting-rooms"


def test_remove(index: KnowledgeIndex) -> None:
    assert index.remove("printer") is True
    assert index.remove("printer") is False
    assert index.get("printer") is None
    assert "printer" not in slugs(index.search("Add the office printer", limit=20))
    assert len(index) == len(ENTRIES) - 1
    assert "printer" not in {entry.slug for entry in index.entries}


def test_learning_returns_at_once_and_the_classifier_catches_up(index: KnowledgeIndex) -> None:
    wordings = ["my pay statement went missing", "pay statement for march", "statement of pay"]
    for wording in wordings:
        assert index.learn("payslip", wording) is True

    assert index.settle(timeout=30) is True
    hits = index.search("where is my pay statement")
    assert hits[0].slug == "payslip"
    assert hits[0].confident


def test_the_classifier_reorders_but_never_makes_eddy_confident(index: KnowledgeIndex) -> None:
    # "guest" is in one entry only, so the classifier votes for it; the question is about
    # something else and shares little else with it.
    hits = index.search("is the guest list for the summer party ready")
    assert hits and not any(hit.confident for hit in hits)


QUESTIONS = (
    "is the guest list for the summer party ready",
    "how do i resset my vpn pasword",
    "where is my pay statement",
    "book a room for friday",
)


def test_a_classifier_trained_in_the_worker_process_ranks_as_one_trained_here() -> None:
    # Every corpus goes to the worker here (threshold 0); the reference trains in a thread.
    in_thread = KnowledgeIndex.from_entries(ENTRIES, train_in_process_from=None)
    in_worker = KnowledgeIndex.from_entries(ENTRIES, train_in_process_from=0)
    try:
        assert in_thread.trained_in_worker == 0
        assert in_worker.trained_in_worker >= 1  # it arrived, pickled, from the other process
        for question in QUESTIONS:
            expected, hits = in_thread.search(question), in_worker.search(question)
            assert slugs(hits) == slugs(expected)
            assert any(hit.vote != 0.5 for hit in hits)  # the classifier voted
            # LinearSVC shuffles with an unseeded generator: votes agree closely, not exactly.
            assert [hit.vote for hit in hits] == pytest.approx(
                [hit.vote for hit in expected], abs=0.01
            )

        # Helpful clicks retrain in the same (kept) worker, and the result reorders as before.
        trained = in_worker.trained_in_worker
        for wording in ("my pay statement went missing", "pay statement for march"):
            assert in_worker.learn("payslip", wording) is True
        assert in_worker.settle() is True
        assert in_worker.trained_in_worker > trained
        assert in_worker.search("where is my pay statement")[0].slug == "payslip"
    finally:
        in_worker.close()
    in_worker.learn("payslip", "statement of pay")  # closed: it trains in a thread from now on
    assert in_worker.settle() is True
    assert in_worker.search("where is my pay statement")[0].slug == "payslip"


def test_without_processes_the_classifier_trains_in_a_thread(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_processes(method: str | None = None) -> None:
        raise OSError("no semaphores in this sandbox")

    monkeypatch.setattr(multiprocessing, "get_context", no_processes)
    index = KnowledgeIndex.from_entries(ENTRIES, train_in_process_from=0)

    assert index.trained_in_worker == 0
    assert any(hit.vote != 0.5 for hit in index.search(QUESTIONS[0]))
    warnings = [r for r in caplog.records if "cannot train in a worker process" in r.message]
    assert len(warnings) == 1  # said once, not at every training


def test_classifier_leaves_very_large_indexes_to_the_lexical_scores() -> None:
    wordings = {f"entry-{n}": [f"title {n}"] for n in range(MAX_ENTRIES + 1)}
    assert WordingClassifier.train(wordings) is None
    assert WordingClassifier.train({"only-one": ["a title"]}) is None
    two = WordingClassifier.train({"vpn": ["reset vpn password"], "wifi": ["guest wifi code"]})
    assert two is not None
    margins = dict(zip(two.slugs, two.margins("vpn password").tolist(), strict=True))
    assert margins["vpn"] > 0 > margins["wifi"]


def test_classifier_margins_equal_scikit_learns_own_transform() -> None:
    import numpy as np
    from scipy import sparse

    from bot import meaning
    from bot.knowledge import wordings_of
    from bot.knowledge_classifier import classifier_text

    model = WordingClassifier.train({entry.slug: wordings_of(entry) for entry in ENTRIES})
    assert model is not None
    for question in ("how do i resset my vpn pasword", "Guest WiFi?", "zzz qqq", "parking"):
        text = [classifier_text(question)]
        reference = sparse.hstack([model.words.transform(text), model.chars.transform(text)])
        expected = (reference.tocsr() @ model.weights).toarray()[0] + model.bias
        expected += meaning.embed([question])[0] @ model.meaning_weights
        assert np.allclose(model.margins(question), expected, atol=1e-5)


def test_empty_index_finds_nothing() -> None:
    empty = KnowledgeIndex.from_entries([])
    assert empty.search("anything at all") == []
    assert len(empty) == 0


def test_concurrent_searches_while_learning(index: KnowledgeIndex) -> None:
    errors: list[BaseException] = []
    tops: list[str] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                hits = index.search("how do i resset my vpn pasword")
                tops.append(hits[0].slug)
                assert all(0.0 <= hit.score <= 1.0 for hit in hits)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for n in range(200):
            index.learn(ENTRIES[n % len(ENTRIES)].slug, f"learned wording {n} about things")
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert not errors
    assert tops and set(tops) == {"vpn-password"}
    assert sum(len(entry.learned) for entry in index.entries) == 200


def test_background_threads_give_way_to_searches_in_turns() -> None:
    """A background thread working `giving_way()` sleeps at its next function call once a
    search is in flight (so the search gets the interpreter back at once), then runs for
    GIVE_WAY_RUN_SECONDS before it sleeps again; never while no search is in flight or while
    it holds the index's lock; and it leaves no profile hook behind."""
    lock = threading.RLock()
    now = [0.0]
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    searches = knowledge._Searches(lock, pause=pause, clock=lambda: now[0])
    go = [threading.Event() for _ in range(4)]
    done = [threading.Event() for _ in range(4)]
    under_lock: list[int] = []
    hook_after: list[object] = []

    def step(n: int) -> int:
        return n + 1

    def work(part: int) -> None:
        go[part].wait()
        for n in range(10):
            step(n)

    def busy() -> None:
        with searches.giving_way():
            for part in range(2):
                work(part)
                done[part].set()
            work(2)
            with lock:
                done[2].set()  # the lock is held before the test moves the clock on
                work(3)
                under_lock.append(len(pauses))
            done[3].set()
        hook_after.append(sys.getprofile())

    def pauses_after(part: int) -> int:
        go[part].set()
        done[part].wait()
        return len(pauses)

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        assert pauses_after(0) == 0  # no search in flight: straight through
        with searches.running():
            assert pauses_after(1) == 1  # slept once, then ran its turn (the clock stood still)
            now[0] += knowledge.GIVE_WAY_RUN_SECONDS
            assert pauses_after(2) == 2  # its turn was over: it slept again
            now[0] += knowledge.GIVE_WAY_RUN_SECONDS
            pauses_after(3)
    finally:  # a failed step must not leave the thread waiting
        for event in go:
            event.set()
        thread.join()
    assert under_lock == [2]  # its turn was over, but it held the index's lock
    assert set(pauses) == {knowledge.GIVE_WAY_SECONDS}
    assert searches.threads == set()
    assert hook_after == [None]


def test_the_builder_and_the_trainer_give_way_to_a_search_in_flight() -> None:
    index = KnowledgeIndex.from_entries(ENTRIES)
    pausing: list[str] = []
    index._searches.pause = lambda seconds: pausing.append(threading.current_thread().name)
    index._searches.clock = lambda: 0.0  # a clock that stands still: one pause per block
    with index._searches.running():  # as if a search were running in another thread
        index.learn("payslip", "where did my pay statement go")
        index.upsert(replace(ENTRIES[4], body="Payslips are in the new payroll app."))
        assert index.settle() is True
    assert {"eddy-index-builder", "eddy-knowledge-trainer"} <= set(pausing)
    assert index.search("where did my pay statement go")[0].slug == "payslip"
    assert index._searches.threads == set()
