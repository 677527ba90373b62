"""Subject-matter networks, through the front door: /experts, "Ask the experts", Claim (also
two at once), answers in the thread or the Answer modal, Resolved, escalation across a
restart and a second instance, an expert leaving mid-question, a topic with nobody in it,
hostile text, and the answer coming back into the index after review."""

from __future__ import annotations

import copy
import json
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot import networks
from bot.scheduler import run_jobs
from tests.conftest import (
    ALEX,
    GENERAL,
    IT_HELP,
    KIM,
    RIO,
    ROOT,
    SAM,
    Instance,
    postgres_database,
    shipped_content,
)
from tests.test_ask import buttons, shown
from tests.test_cli import eddy as eddy_cli

#: Nothing in the shipped index answers this confidently.
UNKNOWN = "how do I get a parking permit for the new office garage"
HOURS = timedelta(hours=1)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The shipped content, with #it-help as the IT help network's channel and a Security
    network that DMs two experts at a time."""
    escalation = [
        {"after_hours": 2, "notify": "network"},
        {"after_hours": 24, "notify": "managers"},
    ]
    return shipped_content(
        tmp_path,
        topics={"security": {"experts_per_question": 2, "escalation": escalation}},
        keywords={"people": ["parking", "office"]},
        more_topics=[{"key": "python", "name": "Python", "keywords": ["django", "pip"]}],
    )


def last_dm(slack, user):
    return slack.dms(user)[-1]


def experts_say(slack, user, text, channel=GENERAL) -> str:
    slack.command(user, channel, f"/experts {text}")
    return shown(slack.ephemerals(user)[-1])


def send_to_experts(slack, asker, question, topic=None, *, where=GENERAL, typed=None):
    """Ask Eddy, press "Ask the experts", and send the form (with `topic`, or as suggested;
    with the question as `typed` into the form, or as it was prefilled)."""
    slack.command(asker, where, f"/ask {question}")
    slack.press(asker, slack.ephemerals(asker)[-1], "Ask the experts")
    form = slack.modal(asker)
    assert form is not None and form.title() == "Ask the experts"
    values = {"experts_topic": topic} if topic else {}
    if typed is not None:
        values["experts_question"] = typed
    slack.submit(asker, values)
    return form


def question_posts(slack, user):
    return [m for m in slack.dms(user) if "A question for the" in shown(m)]


# --- /experts ------------------------------------------------------------------------------


def test_help_empty_unknown_long_and_hostile_text_get_the_usage(slack, instance):
    for text in ("help", "", "dance", "join " + "x" * 1200):
        reply = experts_say(slack, SAM, text)
        assert "/experts join &lt;topic&gt;" in reply, text
    hostile = experts_say(slack, SAM, "join <!channel> <@U0KIM0003|kim>")
    assert "I don't know a topic called" in hostile
    assert "<!channel>" not in hostile and "<@U0KIM0003" not in hostile
    assert "@channel" in hostile


def test_join_with_a_typo_says_which_topic_it_took_and_list_and_me_show_it(slack, instance):
    python = experts_say(slack, KIM, "join pyhton")
    assert "(I took “pyhton” to mean *Python*.) You've joined the *Python* network" in python
    reply = experts_say(slack, SAM, "join secuirty")
    assert "I took “secuirty” to mean *Security*" in reply
    assert "You've joined the *Security* network" in reply
    assert "You're already in the *Security* network" in experts_say(slack, SAM, "join security")
    assert "*Security* (`security`): 1 expert" in experts_say(slack, SAM, "list")
    assert f"*Experts:* <@{SAM}>" in experts_say(slack, KIM, "list Security")
    me = experts_say(slack, SAM, "me")
    assert "You're in: *Security*." in me and "answered 0 questions" in me
    assert "You've left the *Security* network" in experts_say(slack, SAM, "leave security")
    assert "You're not in any network yet" in experts_say(slack, SAM, "me")


def test_a_topic_answers_to_a_word_of_its_name_or_its_initials(slack, instance):
    hr = experts_say(slack, KIM, "join hr")
    assert "(I took “hr” to mean *People and HR*.) You've joined the *People and HR*" in hr
    assert "You've joined the *IT help* network" in experts_say(slack, SAM, "join it")
    assert "to mean *Workplace tools*" in experts_say(slack, RIO, "join wt")


def test_away_says_what_it_kept_and_the_list_shows_who_is_away(slack, instance):
    experts_say(slack, KIM, "join security")
    experts_say(slack, SAM, "join security")
    away = experts_say(slack, KIM, "away on holiday until Monday")
    assert "You're marked away" in away
    assert "I don't keep a note or a return date, so I set “on holiday until Monday” aside" in away
    members = experts_say(slack, ALEX, "list security")
    assert f"<@{KIM}> (away)" in members and f"<@{SAM}> (away)" not in members
    experts_say(slack, KIM, "back")
    assert "(away)" not in experts_say(slack, ALEX, "list security")


def test_managers_add_and_remove_anyone_and_others_cannot(slack, instance):
    refused = experts_say(slack, SAM, f"add <@{KIM}|kim> security")
    assert "Only community managers can add other people" in refused
    added = experts_say(slack, ALEX, f"add <@{KIM}|kim> <@{RIO}|rio> security")
    assert f"Added <@{KIM}> and <@{RIO}> to the *Security* network." in added
    assert "added you to the *Security* network" in last_dm(slack, KIM).text
    removed = experts_say(slack, ALEX, f"remove <@{RIO}|rio> security")
    assert f"Removed <@{RIO}> from the *Security* network" in removed
    members = experts_say(slack, ALEX, "list security")
    assert f"*Experts:* <@{KIM}>" in members and RIO not in members


def test_the_domain_refuses_to_change_someone_elses_membership_for_a_non_manager(slack, instance):
    """The rule lives in bot/networks.py, whatever a handler checked first: anyone may join
    or leave, only managers add or take out someone else."""
    runtime = instance.runtime
    assert networks.join(runtime, topic_key="security", user_id=KIM, added_by=SAM) is (
        networks.Outcome.NOT_ALLOWED
    )
    assert KIM not in networks.experts(runtime, "security")
    assert networks.join(runtime, topic_key="security", user_id=KIM, added_by=KIM) is (
        networks.Outcome.DONE
    )
    assert networks.leave(runtime, topic_key="security", user_id=KIM, removed_by=SAM) == (
        networks.Outcome.NOT_ALLOWED,
        [],
    )
    assert KIM in networks.experts(runtime, "security")
    left, _ = networks.leave(runtime, topic_key="security", user_id=KIM, removed_by=ALEX)
    assert left is networks.Outcome.DONE and KIM not in networks.experts(runtime, "security")


def test_adding_or_removing_again_says_who_already_was_and_bots_are_not_experts(slack, instance):
    experts_say(slack, ALEX, f"add <@{KIM}|kim> security")
    again = experts_say(slack, ALEX, f"add <@{KIM}|kim> <@{RIO}|rio> security")
    assert f"Added <@{RIO}> to the *Security* network. <@{KIM}> is already in" in again
    assert "nobody new" not in again
    gone = experts_say(slack, ALEX, f"remove <@{SAM}|sam> security")
    assert f"<@{SAM}> is not in the *Security* network." in gone and "Removed" not in gone
    bot = experts_say(slack, ALEX, "add <@U0EDDYBOT|eddy> security")
    assert "can't be an expert" in bot and "Added" not in bot
    assert "U0EDDYBOT" not in experts_say(slack, ALEX, "list security")


def test_away_experts_are_skipped(slack, instance):
    for person in (SAM, KIM):
        experts_say(slack, person, "join security")
    assert "You're marked away" in experts_say(slack, SAM, "away")
    send_to_experts(slack, RIO, UNKNOWN, "security")
    assert question_posts(slack, KIM) and not question_posts(slack, SAM)
    assert "Welcome back" in experts_say(slack, SAM, "back")


def test_without_networks_ask_the_experts_and_experts_say_so_honestly(slack, tmp_path, clock):
    folder = tmp_path / "bare"
    (folder / "knowledge").mkdir(parents=True)
    (folder / "knowledge" / "wifi.md").write_text("---\ntitle: Office wifi\n---\nJoin *Guest*.")
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'bare.db'}", folder, clock)
    slack.connect(eddy.target)
    try:
        slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
        slack.press(SAM, slack.ephemerals(SAM)[-1], "Ask the experts")
        assert "No subject-matter network is set up" in slack.ephemerals(SAM)[-1].text
        assert "adds topics to `networks.yml`" in experts_say(slack, SAM, "join it")
    finally:
        eddy.close()


# --- routing -------------------------------------------------------------------------------


def test_the_form_suggests_the_topic_and_the_question_goes_to_the_networks_channel(slack, instance):
    form = send_to_experts(slack, SAM, "my laptop wifi keeps dropping since yesterday")
    select = next(b for b in form.blocks if b.get("block_id") == "experts_topic")
    assert select["element"]["initial_option"]["value"] == "it-help"
    (post,) = [m for m in slack.messages(IT_HELP) if "A question for the" in m.text]
    assert "*IT help* network from <@U0SAM0002>" in shown(post)
    assert buttons(post) == ["Claim", "Answer"]
    assert f"in <#{IT_HELP}>" in last_dm(slack, SAM).text


def test_dms_go_to_few_experts_fairly_and_never_to_the_asker(slack, instance):
    for person in (ALEX, SAM, KIM, RIO):
        experts_say(slack, person, "join security")
    send_to_experts(slack, ALEX, UNKNOWN, "security")
    first = {p for p in (SAM, KIM, RIO) if question_posts(slack, p)}
    assert len(first) == 2 and not question_posts(slack, ALEX)
    assert "to 2 experts of the *Security* network" in last_dm(slack, ALEX).text
    send_to_experts(slack, ALEX, "who approves a new vendor security review", "security")
    (idle,) = {SAM, KIM, RIO} - first
    assert len(question_posts(slack, idle)) == 1, "the expert with nothing waiting is asked first"


def test_a_topic_with_no_experts_tells_the_asker_honestly_and_alerts_a_manager(slack, instance):
    send_to_experts(slack, SAM, UNKNOWN, "security")
    assert (
        "I couldn't send your question to anyone: nobody has joined its network yet"
        in last_dm(slack, SAM).text
    )
    alert = last_dm(slack, ALEX)
    assert "*Needs you:* Nobody could be asked" in shown(alert)
    experts_say(slack, KIM, "join security")
    assert question_posts(slack, KIM), "a new expert gets the question that was waiting"
    assert "just joined the *Security* network" in last_dm(slack, SAM).text


def test_the_asker_hears_who_was_really_told_when_nobody_could_be_asked(
    slack, database, content, clock
):
    """Issue 19: "I've told the people who look after it" only when someone was told; else
    what happened and who can fix it (the asker is the only manager, there is no manager,
    or Slack refused the manager's DM)."""
    told = Instance(slack, database, content, clock)
    slack.connect(told.target)
    send_to_experts(slack, SAM, UNKNOWN, "security")
    assert f"I've told <@{ALEX}>, who looks after *Security*." in last_dm(slack, SAM).text
    send_to_experts(slack, ALEX, "who signs off a new laptop encryption policy", "security")
    only_me = last_dm(slack, ALEX).text
    assert "I've told" not in only_me
    assert "You look after *Security* yourself, so there was nobody else to tell" in only_me
    assert "`/experts add @person security`" in only_me
    told.close()
    nobody = Instance(slack, database, content, clock, eddy_managers=[])
    slack.connect(nobody.target)
    send_to_experts(slack, KIM, "who approves badge access for visitors", "security")
    alone = last_dm(slack, KIM).text
    assert "I've told" not in alone and "Nobody looks after *Security* yet" in alone
    assert "EDDY_MANAGERS" in alone
    nobody.close()
    unreachable = Instance(slack, database, content, clock)
    slack.connect(unreachable.target)
    slack.deactivate(ALEX)
    send_to_experts(slack, RIO, "who rotates the shared wifi password", "security")
    refused = last_dm(slack, RIO).text
    assert "I've told" not in refused
    assert f"I couldn't reach <@{ALEX}>, who looks after *Security*, on Slack" in refused
    unreachable.close()


def test_a_manager_who_claims_an_alert_and_answers_in_its_thread_reaches_the_asker(slack, instance):
    """Every post that invites an answer in its thread is a routed question's post: a
    manager's "Needs you" alert too (the asker's "Not yet" then reaches its thread)."""
    send_to_experts(slack, SAM, UNKNOWN, "security")
    alert = last_dm(slack, ALEX)
    slack.press(ALEX, alert, "Claim")
    slack.say(ALEX, alert.channel, "Ask facilities for a garage permit.", thread_ts=alert.ts)
    thread = [m.text for m in slack.messages(alert.channel, thread_ts=alert.ts)]
    assert not any("I'm not sure I know the answer" in text for text in thread)
    assert any(f"Thanks <@{ALEX}>! I've sent your answer" in text for text in thread)
    answer = last_dm(slack, SAM)
    assert "Ask facilities for a garage permit." in shown(answer)
    slack.press(SAM, answer, "Not yet")
    thread = [m.text for m in slack.messages(alert.channel, thread_ts=alert.ts)]
    assert "doesn't resolve their question yet" in thread[-1]
    slack.say(ALEX, alert.channel, "They are in room 2.", thread_ts=alert.ts)
    assert "They are in room 2." in last_dm(slack, SAM).text
    experts_say(slack, KIM, "join security")
    assert not question_posts(slack, KIM), "a question a manager answered waits for nobody"


def test_only_the_asker_sends_a_question_and_only_once(slack, instance):
    asked = slack.say(SAM, GENERAL, f"<@U0EDDYBOT> {UNKNOWN}")
    reply = slack.messages(GENERAL, thread_ts=asked.ts)[-1]
    slack.press(KIM, reply, "Ask the experts")
    assert "Only the person who asked can send this question" in slack.ephemerals(KIM)[-1].text
    slack.press(SAM, reply, "Ask the experts")
    slack.submit(SAM, {"experts_topic": "people"})
    slack.press(SAM, reply, "Ask the experts")
    assert "already with the *People and HR* network" in shown(slack.ephemerals(SAM)[-1])


# --- claim, answer, resolve ----------------------------------------------------------------


def routed_to_channel(slack) -> object:
    send_to_experts(slack, SAM, UNKNOWN, "it-help")
    return next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)


def test_one_claim_wins_and_the_second_expert_is_told_who_has_it(slack, instance):
    post = routed_to_channel(slack)
    slack.press(KIM, post, "Claim")
    assert "It's yours" in slack.ephemerals(KIM)[-1].text
    assert f"<@{KIM}> is looking at your question" in last_dm(slack, SAM).text
    assert f"Claimed by <@{KIM}>" in shown(post) and buttons(post) == ["Answer"]
    slack.press(RIO, post, "Answer")
    assert f"<@{KIM}> claimed this one first" in slack.ephemerals(RIO)[-1].text
    slack.press(SAM, post, "Answer")
    assert "You asked this one" in slack.ephemerals(SAM)[-1].text


class LoadBalancer:
    """Sends each request to the next Eddy instance in turn, as a load balancer would."""

    def __init__(self, *instances: Instance) -> None:
        self.targets = [instance.target for instance in instances]
        self.turn = 0
        self.lock = threading.Lock()

    def deliver(self, body, headers):
        with self.lock:
            target = self.targets[self.turn % len(self.targets)]
            self.turn += 1
        return target.deliver(body, headers)

    def settle(self) -> None:
        for target in self.targets:
            target.settle()


def race_two_claims(slack, post) -> list[str]:
    """KIM and RIO press Claim at the same moment; what each is told."""
    start = threading.Barrier(2)

    def press(person):
        start.wait()
        slack.press(person, post, "Claim", settle=False)

    threads = [threading.Thread(target=press, args=(person,)) for person in (KIM, RIO)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slack.target.settle()
    return [slack.ephemerals(person)[-1].text for person in (KIM, RIO)]


def test_two_claims_at_once_one_wins(slack, instance):
    post = routed_to_channel(slack)
    replies = race_two_claims(slack, post)
    assert sorted("It's yours" in reply for reply in replies) == [False, True]
    assert any("claimed this one first" in reply for reply in replies)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


def test_two_instances_on_postgresql_agree_on_one_claim(slack, content, clock, postgres_url):
    first = Instance(slack, postgres_url, content, clock)
    second = Instance(slack, postgres_url, content, clock)
    try:
        slack.connect(first.target)
        post = routed_to_channel(slack)
        slack.connect(LoadBalancer(first, second))
        replies = race_two_claims(slack, post)
        assert sorted("It's yours" in reply for reply in replies) == [False, True]
    finally:
        first.close()
        second.close()


def test_an_answer_in_the_thread_reaches_the_asker_who_marks_it_resolved(slack, instance):
    post = routed_to_channel(slack)
    slack.say(
        KIM,
        IT_HELP,
        "Ask at the front desk: permits are <https://intranet.example/parking|here>.",
        thread_ts=post.ts,
    )
    thread = slack.messages(IT_HELP, thread_ts=post.ts)
    assert f"Thanks <@{KIM}>! I've sent your answer to <@{SAM}>." in thread[-1].text
    answer = last_dm(slack, SAM)
    assert f"<@{KIM}> answered your question" in shown(answer)
    assert "Ask at the front desk" in shown(answer) and "See the conversation" in shown(answer)
    assert buttons(answer) == ["Resolved", "Not yet"]
    slack.press(SAM, answer, "Resolved")
    resolved = last_dm(slack, SAM)
    assert "You marked this resolved" in shown(resolved)
    assert buttons(resolved) == ["Save to knowledge index"]
    assert (
        f"<@{SAM}> marked your answer as resolved"
        in slack.messages(IT_HELP, thread_ts=post.ts)[-1].text
    )
    me = experts_say(slack, KIM, "me")
    assert "You've answered 1 question; 1 resolved" in me


def test_the_answer_modal_claims_answers_and_follow_ups_reach_the_asker(slack, instance):
    post = routed_to_channel(slack)
    seen_before = copy.deepcopy(post)  # as KIM's screen showed it before the answer came
    slack.press(RIO, post, "Answer")
    slack.submit(RIO, {"experts_answer": "Fill in the form at the garage office."})
    kinds = [kind for kind, _, _ in networks.timeline(instance.runtime, 1)]
    assert kinds[-2:] == ["claimed", "answered"], "answering an open question claims it"
    assert "*Answer from <@U0RIO0004>:*" in slack.messages(IT_HELP, thread_ts=post.ts)[-1].text
    assert "Fill in the form at the garage office." in shown(last_dm(slack, SAM))
    assert buttons(post) == []
    slack.press(KIM, seen_before, "Claim")
    assert f"<@{RIO}> has already answered this one" in slack.ephemerals(KIM)[-1].text
    answer = last_dm(slack, SAM)
    slack.press(SAM, answer, "Not yet")
    assert (
        "doesn't resolve their question yet" in slack.messages(IT_HELP, thread_ts=post.ts)[-1].text
    )
    # The answer says so, and "Not yet" is not offered twice for one answer.
    answer = next(m for m in slack.dms(SAM) if m.ts == answer.ts)
    assert "You said this doesn't resolve your question yet. I've told" in shown(answer)
    assert buttons(answer) == ["Resolved"]
    slack.say(RIO, IT_HELP, "Also bring your badge.", thread_ts=post.ts)
    assert "added to their answer" in last_dm(slack, SAM).text
    assert "Also bring your badge." in shown(last_dm(slack, SAM))
    assert buttons(last_dm(slack, SAM)) == ["Resolved", "Not yet"]


def test_the_askers_reply_under_their_answer_reaches_the_expert_and_is_not_searched(
    slack, instance
):
    post = routed_to_channel(slack)
    slack.say(KIM, IT_HELP, "Ask at the front desk.", thread_ts=post.ts)
    answer = last_dm(slack, SAM)
    dms_before = len(slack.dms(SAM))
    slack.say(SAM, answer.channel, "Thanks! Is it open on Saturdays?", thread_ts=answer.ts)
    expert_thread = slack.messages(IT_HELP, thread_ts=post.ts)[-1].text
    assert f"<@{SAM}> replied about “" in expert_thread
    assert ">Thanks! Is it open on Saturdays?" in expert_thread
    in_dm_thread = slack.messages(answer.channel, thread_ts=answer.ts)[-1].text
    assert in_dm_thread == f"I've passed that on to <@{KIM}>."
    assert len(slack.dms(SAM)) == dms_before, "nothing new at the top of the DM: no search"
    # The expert's reply to that comes back to the asker, as before.
    slack.say(KIM, IT_HELP, "Yes, 9 to 12.", thread_ts=post.ts)
    assert "Yes, 9 to 12." in last_dm(slack, SAM).text


def test_a_reply_in_a_dm_thread_is_answered_in_that_thread(slack, instance):
    slack.say(SAM, slack.workspace.im_with(SAM).id, "how do I reset my vpn password")
    answer = last_dm(slack, SAM)
    assert "Reset your VPN password" in shown(answer)
    slack.say(SAM, answer.channel, "thanks!", thread_ts=answer.ts)
    thanked = slack.messages(answer.channel, thread_ts=answer.ts)
    assert thanked[-1].user != SAM and "welcome" in thanked[-1].text.casefold()
    slack.say(SAM, answer.channel, "and how do I set up the password manager?", thread_ts=answer.ts)
    follow_up = slack.messages(answer.channel, thread_ts=answer.ts)[-1]
    assert "password manager" in shown(follow_up).casefold()
    assert last_dm(slack, SAM).ts == answer.ts, "both answered in the thread, not at the top"


def test_the_save_form_holds_the_whole_answer_with_the_follow_ups_in_order(slack, instance):
    post = routed_to_channel(slack)
    slack.say(KIM, IT_HELP, "Fill in the blue form.", thread_ts=post.ts)
    slack.press(SAM, last_dm(slack, SAM), "Not yet")
    slack.say(KIM, IT_HELP, "Then take it to the front desk.", thread_ts=post.ts)
    slack.say(KIM, IT_HELP, "They open at nine.", thread_ts=post.ts)
    slack.say(RIO, IT_HELP, "Parking is free on Fridays.", thread_ts=post.ts)
    answer = next(m for m in reversed(slack.dms(SAM)) if "Resolved" in buttons(m))
    slack.press(SAM, answer, "Resolved")
    assert "They open at nine." in shown(answer), "the asker sees the whole answer"
    slack.press(SAM, answer, "Save to knowledge index")
    body = next(b for b in slack.modal(SAM).blocks if b.get("block_id") == "entry_body")
    assert body["element"]["initial_value"] == (
        "Fill in the blue form.\n\nThen take it to the front desk.\n\nThey open at nine."
    )


def test_hostile_text_in_questions_and_answers_pings_nobody(slack, instance):
    form = send_to_experts(
        slack,
        SAM,
        "<!channel> where is the garage",
        "it-help",
        typed="<!channel> <@U0KIM0003> where?",
    )
    prefilled = next(b for b in form.blocks if b.get("block_id") == "experts_question")
    # The form shows the question as typed: inert text, with nothing escaped in it.
    assert prefilled["element"]["initial_value"] == "@channel where is the garage"
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    assert "<!channel>" not in shown(post) and "<@U0KIM0003>" not in shown(post)
    assert "&lt;!channel&gt; &lt;@U0KIM0003&gt; where?" in shown(post)
    slack.say(KIM, IT_HELP, "<!here> ask <@U0RIO0004|rio>", thread_ts=post.ts)
    answer = shown(last_dm(slack, SAM))
    assert "<!here>" not in answer and "<@U0RIO0004" not in answer
    assert "@here ask @U0RIO0004" in answer


def resolve_in_channel(slack):
    post = routed_to_channel(slack)
    slack.say(
        KIM,
        IT_HELP,
        "Garage permits: fill in the *blue form* at the front desk.",
        thread_ts=post.ts,
    )
    slack.press(SAM, last_dm(slack, SAM), "Resolved")
    return post


def test_a_resolved_answer_saved_and_approved_answers_the_next_person_at_once(slack, instance):
    resolve_in_channel(slack)
    slack.press(RIO, last_dm(slack, SAM), "Save to knowledge index")
    assert "Only the expert who answered" in slack.ephemerals(RIO)[-1].text
    thread_save = next(
        m
        for m in reversed(slack.messages(IT_HELP, thread_ts=slack.messages(IT_HELP)[-1].ts))
        if "Save to knowledge index" in buttons(m)
    )
    slack.press(KIM, thread_save, "Save to knowledge index")
    form = slack.modal(KIM)
    values = {
        b["block_id"]: b["element"].get("initial_value")
        for b in form.blocks
        if b["type"] == "input"
    }
    assert values["entry_title"] == UNKNOWN
    assert values["entry_body"] == "Garage permits: fill in the *blue form* at the front desk."
    assert values["entry_questions"] == UNKNOWN
    slack.submit(KIM, {"entry_title": "Get a parking permit for the office garage"})
    assert last_dm(slack, KIM).text.startswith(
        "Thanks! “Get a parking permit for the office garage” is in the review queue for "
        "<@U0ALEX001>."
    )
    card = last_dm(slack, ALEX)
    assert "A new knowledge entry for review" in shown(card)
    assert "Topic: IT help" in shown(card) and "Topic: it-help" not in shown(card)
    assert buttons(card) == ["Approve", "Edit", "Reject"]
    slack.press(SAM, card, "Approve")
    assert "Only community managers" in slack.ephemerals(SAM)[-1].text
    slack.press(ALEX, card, "Approve")
    assert "Approved by <@U0ALEX001>" in shown(last_dm(slack, ALEX))
    assert "is now in the knowledge index" in last_dm(slack, KIM).text
    slack.command(RIO, GENERAL, f"/ask {UNKNOWN}")
    answer = slack.ephemerals(RIO)[-1]
    assert answer.blocks[0]["text"]["text"] == "*Get a parking permit for the office garage*"
    assert "Helpful" in buttons(answer)
    assert networks.timeline(instance.runtime, 1)[-1][0] == "saved"


def test_a_reviewer_can_edit_before_approving_or_reject(slack, instance):
    resolve_in_channel(slack)
    slack.press(SAM, last_dm(slack, SAM), "Save to knowledge index")
    slack.submit(SAM)
    card = last_dm(slack, ALEX)
    slack.press(ALEX, card, "Edit")
    slack.submit(
        ALEX, {"entry_title": "Parking permits", "entry_body": "Ask at the **front desk**."}
    )
    redrawn = json.dumps(last_dm(slack, ALEX).blocks)
    assert "Approved by <@U0ALEX001>" in redrawn and "Parking permits" in redrawn
    assert not list(slack.buttons(card.blocks))  # decided: the card keeps no buttons
    entry = instance.runtime.catalogue.get("parking-permits")
    assert entry is not None and entry.body == "Ask at the **front desk**." and entry.owner == KIM


# --- escalation ----------------------------------------------------------------------------


def dm_topic_question(slack) -> None:
    for person in (KIM, RIO):
        experts_say(slack, person, "join security")
    send_to_experts(slack, SAM, UNKNOWN, "security")


def reminders(slack, user) -> list:
    """The escalation reminders in `user`'s DM with Eddy (in the threads of their posts)."""
    dm_channel = slack.workspace.im_with(user).id
    return [
        m for m in slack.workspace.messages if m.channel == dm_channel and "has waited" in m.text
    ]


def test_escalation_fires_each_tier_once_across_a_restart_and_two_instances(
    slack, database_url, content, clock
):
    database = database_url  # SQLite, then PostgreSQL
    eddy = Instance(slack, database, content, clock)
    slack.connect(eddy.target)
    dm_topic_question(slack)
    clock.advance(1 * HOURS)
    run_jobs(eddy.runtime, clock.now())
    assert not reminders(slack, KIM)
    clock.advance(1 * HOURS + timedelta(minutes=1))
    run_jobs(eddy.runtime, clock.now())
    run_jobs(eddy.runtime, clock.now())
    assert len(reminders(slack, KIM)) == 1 and len(reminders(slack, RIO)) == 1
    eddy.close()  # a restart: a new process on the same database
    clock.advance(22 * HOURS)
    first, second = (
        Instance(slack, database, content, clock),
        Instance(slack, database, content, clock),
    )
    try:
        slack.connect(first.target)
        jobs = [
            threading.Thread(target=run_jobs, args=(i.runtime, clock.now()))
            for i in (first, second)
        ]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join()
        alerts = [m for m in slack.dms(ALEX) if "waited 24 hours" in shown(m)]
        assert len(alerts) == 1 and buttons(alerts[0]) == ["Claim", "Answer"]
        assert "taking longer than usual" in last_dm(slack, SAM).text
        assert len(reminders(slack, KIM)) == 1
        kinds = [kind for kind, _, _ in networks.timeline(first.runtime, 1)]
        assert kinds == ["asked", "routed", "escalated", "escalated"]
    finally:
        first.close()
        second.close()


def test_an_escalation_to_managers_tells_the_asker_who_was_really_asked(
    slack, database, content, clock
):
    """Issue 19: "I've asked the people who look after it" only when a manager was reached;
    with no manager set, the asker hears that nobody looks after the topic and who can fix it."""
    eddy = Instance(slack, database, content, clock, eddy_managers=[])
    slack.connect(eddy.target)
    try:
        dm_topic_question(slack)
        clock.advance(25 * HOURS)
        run_jobs(eddy.runtime, clock.now())
        run_jobs(eddy.runtime, clock.now())
        told = last_dm(slack, SAM).text
        assert "taking longer than usual" in told and "I've asked" not in told
        assert "Nobody looks after *Security* yet" in told and "EDDY_MANAGERS" in told
    finally:
        eddy.close()


def test_a_claimed_question_does_not_escalate(slack, instance, clock):
    dm_topic_question(slack)
    slack.press(KIM, question_posts(slack, KIM)[-1], "Claim")
    assert f"<@{KIM}> is on it" in shown(question_posts(slack, RIO)[-1])
    clock.advance(30 * HOURS)
    run_jobs(instance.runtime, clock.now())
    assert not reminders(slack, KIM) and not [m for m in slack.dms(ALEX) if "waited" in shown(m)]


# --- leaving mid-question, and the records -------------------------------------------------


def test_an_expert_leaving_mid_question_hands_it_to_someone_else(slack, instance):
    for person in (KIM, RIO):
        experts_say(slack, person, "join security")
    experts_say(slack, ALEX, "join security")
    send_to_experts(slack, SAM, UNKNOWN, "security")
    asked = [p for p in (KIM, RIO, ALEX) if question_posts(slack, p)]
    (spare,) = {KIM, RIO, ALEX} - set(asked)
    claimer = asked[0]
    (claimed,) = question_posts(slack, claimer)
    slack.press(claimer, claimed, "Claim")
    reply = experts_say(slack, claimer, "leave security")
    assert "1 open question you had is open again for the rest of the network" in reply
    assert "You left the *Security* network" in shown(claimed) and buttons(claimed) == []
    assert question_posts(slack, spare), "someone new is asked"
    other = asked[1]
    assert buttons(question_posts(slack, other)[-1]) == ["Claim", "Answer"], "open again"
    assert "can no longer answer your question" in last_dm(slack, SAM).text


def test_the_timeline_gives_first_response_and_resolution_times_per_topic(
    slack, instance, clock, database, tmp_path
):
    post = routed_to_channel(slack)
    clock.advance(timedelta(minutes=10))
    slack.press(KIM, post, "Claim")
    clock.advance(timedelta(minutes=20))
    slack.say(KIM, IT_HELP, "Front desk.", thread_ts=post.ts)
    clock.advance(timedelta(minutes=30))
    slack.press(SAM, last_dm(slack, SAM), "Resolved")
    kinds = [kind for kind, _, _ in networks.timeline(instance.runtime, 1)]
    assert kinds == ["asked", "routed", "claimed", "answered", "resolved"]
    (times,) = networks.response_times(instance.runtime.store, instance.runtime.team_id)
    assert (times.topic, times.asked, times.answered, times.resolved) == ("it-help", 1, 1, 1)
    assert timedelta(minutes=10) <= times.first_response < timedelta(minutes=11)
    assert timedelta(minutes=60) <= times.resolution < timedelta(minutes=61)
    report = eddy_cli("experts", "report", cwd=tmp_path, DATABASE_URL=database)
    assert report.returncode == 0, report.stderr
    assert "it-help" in report.stdout and "10 min" in report.stdout and "60 min" in report.stdout


def test_an_expert_answers_in_the_thread_of_their_dm(slack, instance):
    dm_topic_question(slack)
    expert = next(p for p in (KIM, RIO) if question_posts(slack, p))
    (post,) = question_posts(slack, expert)
    slack.say(
        expert,
        post.channel,
        "Report it with the *Phish* button in your mail app.",
        thread_ts=post.ts,
    )
    assert "Phish* button" in shown(last_dm(slack, SAM))
    (other,) = {KIM, RIO} - {expert}
    assert buttons(question_posts(slack, other)[-1]) == []
    assert f"Answered by <@{expert}>" in shown(question_posts(slack, other)[-1])


def test_a_reply_after_someone_else_took_the_question_reaches_the_holder_and_the_asker(
    slack, instance
):
    dm_topic_question(slack)
    (kims,) = question_posts(slack, KIM)
    (rios,) = question_posts(slack, RIO)
    slack.press(KIM, kims, "Claim")
    slack.say(RIO, rios.channel, "The garage office is on level -1.", thread_ts=rios.ts)
    told = slack.messages(rios.channel, thread_ts=rios.ts)[-1].text
    assert f"<@{KIM}> has this question, so I've passed your reply on to <@{KIM}> and" in told
    assert "also replied about this question" in (
        slack.messages(kims.channel, thread_ts=kims.ts)[-1].text
    )
    assert f"<@{RIO}> also replied about your question" in last_dm(slack, SAM).text
    assert "level -1" in last_dm(slack, SAM).text
    slack.say(KIM, kims.channel, "Ask at the front desk.", thread_ts=kims.ts)
    slack.say(RIO, rios.channel, "Or phone extension 42.", thread_ts=rios.ts)
    assert "extension 42" in last_dm(slack, SAM).text, "after the answer too"


def test_a_reply_in_a_channel_thread_after_a_claim_reaches_the_asker(slack, instance):
    post = routed_to_channel(slack)
    slack.press(KIM, post, "Claim")
    slack.say(RIO, IT_HELP, "Try the garage office.", thread_ts=post.ts)
    told = slack.messages(IT_HELP, thread_ts=post.ts)[-1].text
    assert f"passed your reply on to <@{SAM}>." in told
    assert "Try the garage office." in last_dm(slack, SAM).text


def test_a_channel_eddy_cannot_post_in_falls_back_to_dms_and_tells_a_manager(
    slack, tmp_path, clock
):
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    data = yaml.safe_load((folder / "networks.yml").read_text())
    data["topics"][0]["channel"] = "C0RANDOM1"  # Eddy is not a member there
    (folder / "networks.yml").write_text(yaml.safe_dump(data))
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'fallback.db'}", folder, clock)
    slack.connect(eddy.target)
    try:
        experts_say(slack, KIM, f"join {data['topics'][0]['key']}")
        send_to_experts(slack, SAM, UNKNOWN, data["topics"][0]["key"])
        assert question_posts(slack, KIM)
        assert "I couldn't post in <#C0RANDOM1> (`not_in_channel`)" in shown(last_dm(slack, ALEX))
    finally:
        eddy.close()


def test_a_channel_network_is_reminded_in_the_thread_where_everyone_sees_it(slack, instance, clock):
    post = routed_to_channel(slack)
    clock.advance(2 * HOURS + timedelta(minutes=1))
    run_jobs(instance.runtime, clock.now())
    (reminder,) = [m for m in slack.messages(IT_HELP, thread_ts=post.ts) if "has waited" in m.text]
    assert "waited 2 hours with nobody on it" in reminder.text
    assert any(
        call.args.get("reply_broadcast") in (True, "true", "1")
        for call in slack.calls("chat.postMessage")
    )


def test_a_thread_answer_too_long_for_the_save_form_is_shortened_where_the_saver_sees_it(
    slack, instance
):
    """An answer given in a thread can be longer than a form's input holds (3,000): the Save
    form shortens it between words and says so under the input, never silently."""
    post = routed_to_channel(slack)
    long_answer = " ".join(f"step{number}" for number in range(700))  # about 5,000 characters
    slack.say(KIM, IT_HELP, long_answer, thread_ts=post.ts)
    slack.press(SAM, last_dm(slack, SAM), "Resolved")
    slack.press(SAM, last_dm(slack, SAM), "Save to knowledge index")
    body = next(b for b in slack.modal(SAM).blocks if b.get("block_id") == "entry_body")
    prefilled = body["element"]["initial_value"]
    assert len(prefilled) <= 3000 and prefilled.endswith("…")
    assert long_answer.startswith(prefilled.removesuffix("…").rstrip())
    assert "Shortened to fit" in body["hint"]["text"]
