"""The journal of paid requests: a reopened campaign answers a request it paid for from the
journal, through the real openai client and the replay server; a call cut short by a kill
is in the ledger, at its estimate and unsettled when it was in flight."""

from __future__ import annotations

from scientist.campaign import Campaign
from scientist.llm import Message
from scientist.llm.journal import IN_FLIGHT, Journal, request_key
from tests.llm.conftest import Verdict, openai_llm

ASK = [Message(role="user", content="Rate this.")]


def test_a_reopened_campaign_replays_paid_requests(replay_server, campaign):
    replay_server.load([{"json": {"label": "good", "score": 3}}, {"text": "second"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        first = llm.complete("ideas", ASK, schema=Verdict)
        llm.complete("ideas", [Message(role="user", content="Again.")])
    paid = sum(entry.usage.cost_usd for entry in campaign.ledger())
    assert len(replay_server.fingerprints) == 2 and paid > 0

    with openai_llm(replay_server, campaign=Campaign.open(campaign.root)) as llm:
        replayed = llm.complete("ideas", ASK, schema=Verdict)
        assert replayed.parsed == first.parsed and replayed.call_id == first.call_id
        assert llm.complete("ideas", [Message(role="user", content="Again.")]).text == "second"
        replay_server.load([{"json": {"label": "fresh", "score": 1}}])
        again = llm.complete("ideas", ASK, schema=Verdict)  # asked once more: sent
    assert again.parsed.label == "fresh" and len(replay_server.fingerprints) == 3
    assert len(campaign.ledger()) == 3  # the replayed calls were paid once


def test_requests_that_differ_only_by_seed_are_journaled_and_replayed_apart(
    replay_server, campaign
):
    replay_server.load([{"text": "first seed"}, {"text": "second seed"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        assert llm.complete("review", ASK, seed=1).text == "first seed"
        assert llm.complete("review", ASK, seed=2).text == "second seed"
    assert [request["body"]["seed"] for request in replay_server.requests] == [1, 2]

    with openai_llm(replay_server, campaign=Campaign.open(campaign.root)) as llm:
        assert llm.complete("review", ASK, seed=2).text == "second seed"
        assert llm.complete("review", ASK, seed=1).text == "first seed"
    assert len(replay_server.requests) == 2  # both answered from the journal


def test_an_unseeded_request_keeps_its_key():
    unseeded = request_key("review", ASK, None, None, 64, None)
    assert request_key("review", ASK, None, None, 64, None, seed=None) == unseeded
    assert request_key("review", ASK, None, None, 64, None, seed=1) != unseeded


def test_a_call_cut_short_by_a_kill_is_ledgered_on_reopening(replay_server, campaign):
    replay_server.load([{"text": "answered"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        llm.complete("write", ASK)
    journal = Journal(campaign.journal_path)
    call = journal.call("write", "killed-call", None)
    key = call.key(ASK, None, None, 64)
    call.sent(key, "openai:gpt-4o", estimate_usd=0.25)  # the kill came before its answer

    with openai_llm(replay_server, campaign=Campaign.open(campaign.root)) as llm:
        assert llm.spent_usd > 0.25
    [entry] = [e for e in campaign.ledger() if e.call_id == "killed-call"]
    assert not entry.settled and not entry.ok and entry.error == IN_FLIGHT
    assert entry.usage.cost_usd == 0.25 and entry.role == "write"
    Campaign.open(campaign.root)  # reopening again adds nothing twice
    with openai_llm(replay_server, campaign=Campaign.open(campaign.root)):
        pass
    assert [e.call_id for e in campaign.ledger()].count("killed-call") == 1
