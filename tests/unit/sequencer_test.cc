// A/B arbitration of MoldUDP64 lines: every message once and in order
// whatever the lines lose, duplicate or reorder; holes that neither line fills
// become gaps, with their exact extent, after the timeout or when the store of
// held packets is full.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "feed/sequencer.h"
#include "mold/moldudp64.h"

namespace {

// Packet k carries messages 1 + 3k .. 3 + 3k; message m is 5 bytes holding m.
std::vector<uint8_t> packet(uint64_t k, const char* session = "SESSION001") {
  std::vector<uint8_t> buf(1500);
  fh::mold::PacketBuilder b(buf, session, 1 + 3 * k);
  for (uint64_t m = 1 + 3 * k; m < 4 + 3 * k; ++m) {
    const uint8_t msg[5] = {'X', uint8_t(m >> 24), uint8_t(m >> 16), uint8_t(m >> 8), uint8_t(m)};
    REQUIRE(b.add(msg));
  }
  buf.resize(b.finish().size());
  return buf;
}

std::vector<uint8_t> control(uint64_t next, uint16_t count) {
  std::vector<uint8_t> buf(20);
  std::memcpy(buf.data(), "SESSION001", 10);
  for (int i = 0; i < 8; ++i) buf[10 + i] = uint8_t(next >> (56 - 8 * i));
  buf[18] = uint8_t(count >> 8);
  buf[19] = uint8_t(count);
  return buf;
}

struct Out {
  std::vector<uint64_t> sequences;
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  int ends = 0;
  void message(uint64_t seq, uint64_t, const uint8_t* msg, uint16_t n) noexcept {
    CHECK(n == 5);
    if (n != 5) return;
    const uint64_t m = uint64_t(msg[1]) << 24 | uint64_t(msg[2]) << 16 | uint64_t(msg[3]) << 8 | msg[4];
    CHECK(m == seq);  // the message is the one its sequence says
    sequences.push_back(seq);
  }
  void gap(uint64_t first, uint64_t count) noexcept { gaps.emplace_back(first, count); }
  void endOfSession() noexcept { ++ends; }
  void endOfPacket() noexcept {}
  void join(uint64_t sequence) noexcept { joins.push_back(sequence); }
  void newSession() noexcept { ++newSessions; }
  std::vector<uint64_t> joins;
  int newSessions = 0;
};

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> v;
  for (uint64_t s = first; s <= last; ++s) v.push_back(s);
  return v;
}

using Sequencer = fh::feed::Sequencer<Out>;

}  // namespace

TEST_CASE("sequencer: one line in order, then both lines with duplicates", "[sequencer]") {
  Out out;
  Sequencer a({}, out);
  for (uint64_t k = 0; k < 10; ++k) {
    const auto p = packet(k);
    a.packet(0, p, k);
    a.packet(1, p, k);
  }
  CHECK(out.sequences == range(1, 30));
  CHECK(a.counters().duplicates == 10);
  CHECK(a.counters().line[0].packets == 10);
  CHECK(a.counters().line[1].messages == 30);
  CHECK(out.gaps.empty());
  CHECK(a.nextSequence() == 31);
}

TEST_CASE("sequencer: each line loses packets the other has, nothing is lost", "[sequencer]") {
  Out out;
  Sequencer a({}, out);
  std::mt19937 rng(7);
  uint64_t now = 0;
  // B lags A by one packet: a packet A lost comes from B after A's next one.
  std::vector<bool> droppedB(2001, false);
  for (uint64_t k = 0; k <= 2000; ++k) {
    const bool dropA = k > 0 && rng() % 5 == 0;  // the first packet sets where the session starts
    droppedB[k] = !dropA && rng() % 5 == 0;
    if (k < 2000 && !dropA) a.packet(0, packet(k), ++now);
    if (k > 0 && !droppedB[k - 1]) a.packet(1, packet(k - 1), ++now);
  }
  CHECK(out.sequences == range(1, 6000));
  CHECK(out.gaps.empty());
  CHECK(a.counters().gaps == 0);
  CHECK(a.counters().filled > 0);
}

TEST_CASE("sequencer: a hole on both lines becomes a gap after the timeout, not before", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 16, .gapTimeoutNs = 1000}, out);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(2), 10);  // packet 1 (messages 4..6) missing on A
  a.packet(0, packet(3), 20);
  a.packet(1, packet(2), 30);  // and on B
  CHECK(out.sequences == range(1, 3));
  a.idle(900);
  CHECK(out.gaps.empty());  // still waiting
  a.idle(1010);
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 3});
  CHECK(out.sequences == [] {
    auto v = range(1, 3);
    for (uint64_t s = 7; s <= 12; ++s) v.push_back(s);
    return v;
  }());
  CHECK(a.counters().gapMessages == 3);
  // The lost packet, late: too late, a duplicate.
  a.packet(1, packet(1), 2000);
  CHECK(a.counters().duplicates == 2);
  CHECK(out.sequences.back() == 12);
}

TEST_CASE("sequencer: when the held store is full the hole is lost at once", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 4, .gapTimeoutNs = 1'000'000'000}, out);
  a.packet(0, packet(0), 0);
  for (uint64_t k = 2; k < 8; ++k) a.packet(0, packet(k), k);
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 3});
  auto want = range(1, 3);
  for (uint64_t s = 7; s <= 24; ++s) want.push_back(s);
  CHECK(out.sequences == want);
}

TEST_CASE("sequencer: a full store loses only the holes, oldest first", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 4, .gapTimeoutNs = 1'000'000'000}, out);
  // Packets 3, 6, 9, ... never come; the rest arrive in order.
  for (uint64_t k = 0; k < 30; ++k)
    if (k % 3 != 2 || k == 0) a.packet(0, packet(k), k);
  for (uint64_t t = 2; t < 6; ++t) a.idle(t * 1'000'000'000);  // each remaining hole times out in turn
  std::vector<uint64_t> want;
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  for (uint64_t k = 0; k < 30; ++k) {
    if (k % 3 == 2) {
      if (k < 29) gaps.emplace_back(1 + 3 * k, 3);  // the last hole has nothing after it: not yet a gap
      continue;
    }
    for (uint64_t m = 1 + 3 * k; m < 4 + 3 * k; ++m) want.push_back(m);
  }
  CHECK(out.sequences == want);
  CHECK(out.gaps == gaps);
  CHECK(a.counters().gapMessages == 27);
  CHECK(a.counters().duplicates == 0);
}

TEST_CASE("sequencer: heartbeats, a hole they reveal, end of session, a new session", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 4, .gapTimeoutNs = 100}, out);
  a.packet(0, packet(0), 0);
  a.packet(0, control(4, 0), 1);   // heartbeat: next is 4, nothing missing
  a.packet(0, control(10, 0), 2);  // next is 10: 4..9 went missing
  a.idle(50);
  CHECK(out.gaps.empty());
  a.idle(200);
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 6});
  CHECK(a.counters().heartbeats == 2);
  a.packet(0, packet(3), 300);  // messages 10..12
  CHECK(out.sequences.back() == 12);
  a.packet(0, control(13, 0xFFFF), 301);
  a.packet(1, control(13, 0xFFFF), 302);
  CHECK(out.ends == 1);
  // The next session starts from its own first sequence.
  a.packet(0, packet(0, "SESSION002"), 400);
  CHECK(out.sequences.back() == 3);
  CHECK(a.counters().sessionChanges == 1);
  // Malformed: a header cut short.
  const std::vector<uint8_t> shortPacket(10, 0);
  a.packet(1, shortPacket, 500);
  CHECK(a.counters().line[1].malformed == 1);
}

TEST_CASE("sequencer: a start in mid-session is a join, said once", "[sequencer]") {
  Out out;
  Sequencer a({}, out);
  a.packet(0, packet(3), 0);  // messages 10..12: 1..9 were before our time
  a.packet(1, packet(3), 1);
  a.packet(0, packet(4), 2);
  CHECK(out.joins == std::vector<uint64_t>{10});
  CHECK(out.sequences == range(10, 15));
  CHECK(out.gaps.empty());
  CHECK(a.counters().joinedAt == 10);
  CHECK(out.newSessions == 0);

  Out fromStart;
  Sequencer b({}, fromStart);
  b.packet(0, packet(0), 0);
  CHECK(fromStart.joins.empty());
  CHECK(b.counters().joinedAt == 0);
}

TEST_CASE("sequencer: one packet of another session changes nothing but a counter", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 16, .gapTimeoutNs = 1'000'000}, out);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(2), 1);                // held: 4..6 missing
  a.packet(1, packet(0, "OTHERSESSN"), 2);  // a stray packet: not evidence
  a.packet(1, packet(1), 3);                // line B fills the hole
  CHECK(out.sequences == range(1, 9));
  CHECK(out.gaps.empty());
  CHECK(a.counters().foreignPackets == 1);
  CHECK(a.counters().sessionChanges == 0);
  CHECK(out.newSessions == 0);
}

TEST_CASE("sequencer: a new session on both lines, skewed, is accepted once both show it", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 16, .gapTimeoutNs = 1'000'000}, out);
  a.packet(0, packet(0), 0);
  a.packet(1, packet(0), 1);
  a.packet(0, packet(2), 2);                // held: the old session owes 4..6
  a.packet(0, packet(0, "SESSION002"), 3);  // line A moved on first
  a.packet(0, packet(1, "SESSION002"), 4);
  CHECK(a.counters().foreignPackets == 2);
  CHECK(out.sequences == range(1, 3));
  a.packet(1, packet(0, "SESSION002"), 5);  // line B agrees: accepted
  CHECK(a.counters().sessionChanges == 1);
  CHECK(out.newSessions == 1);
  // The old session's hole is lost and its held packet went out first.
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 3});
  a.packet(1, packet(1, "SESSION002"), 6);
  std::vector<uint64_t> want = range(1, 3);
  for (uint64_t s : range(7, 9)) want.push_back(s);
  for (uint64_t s : range(1, 6)) want.push_back(s);
  CHECK(out.sequences == want);
  CHECK(out.joins.empty());
  CHECK(a.counters().gapMessages == 3);
}

TEST_CASE("sequencer: a one-line feed takes a new session after three packets in a row", "[sequencer]") {
  Out out;
  Sequencer a({.lines = 1}, out);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(5, "SESSION002"), 1);
  a.packet(0, packet(1), 2);  // the old session again: evidence starts over
  a.packet(0, packet(5, "SESSION002"), 3);
  a.packet(0, packet(6, "SESSION002"), 4);
  CHECK(a.counters().sessionChanges == 0);
  a.packet(0, packet(7, "SESSION002"), 5);  // third in a row: accepted from 16, the lowest it showed
  CHECK(a.counters().sessionChanges == 1);
  CHECK(a.counters().foreignPackets == 3);
  CHECK(out.newSessions == 1);
  CHECK(out.joins == std::vector<uint64_t>{16});
  CHECK(a.counters().joinedAt == 16);
  a.idle(10'000'000);  // 16..21 were dropped as evidence: lost
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{16, 6});
  CHECK(out.sequences.back() == 24);
}

// --- Retransmission: requests through a channel, replies as a third line ---

namespace {

struct Request {
  uint32_t server;
  std::string session;
  uint64_t first;
  uint16_t count;
  bool operator==(const Request&) const = default;
};

struct Channel {
  std::vector<Request> sent;
  bool up = true;
  bool request(uint32_t server, std::span<const uint8_t> p) noexcept {
    REQUIRE(p.size() == 20);
    uint64_t first = 0;
    for (int i = 0; i < 8; ++i) first = first << 8 | p[10 + i];
    sent.push_back({server, std::string(p.begin(), p.begin() + 10), first, uint16_t(p[18] << 8 | p[19])});
    return up;
  }
};

using Recovering = fh::feed::Sequencer<Out, Channel>;

// Messages first .. first+count-1 as one reply packet.
std::vector<uint8_t> reply(uint64_t first, uint64_t count, const char* session = "SESSION001") {
  std::vector<uint8_t> buf(1500);
  fh::mold::PacketBuilder b(buf, session, first);
  for (uint64_t m = first; m < first + count; ++m) {
    const uint8_t msg[5] = {'X', uint8_t(m >> 24), uint8_t(m >> 16), uint8_t(m >> 8), uint8_t(m)};
    REQUIRE(b.add(msg));
  }
  buf.resize(b.finish().size());
  return buf;
}

// Every message received is applied, a duplicate, late, unparsed, foreign or still held.
void checkAccounting(const fh::feed::SequencerCounters& c) {
  uint64_t received = 0, outcome = 0;
  for (const auto& l : c.line) {
    received += l.messages;
    outcome += l.applied + l.duplicates + l.late + l.unparsed + l.foreign;
  }
  CHECK(received == outcome + c.heldMessages);
}

fh::feed::SequencerConfig recovering(uint32_t servers, uint32_t maxMessages = 0xFFFE) {
  fh::feed::SequencerConfig c;
  c.heldPackets = 64;
  c.gapTimeoutNs = 1000;
  c.retransmission.servers = servers;
  c.retransmission.timeoutNs = 10'000;
  c.retransmission.attempts = 2;
  c.retransmission.maxMessages = maxMessages;
  c.retransmission.inFlight = 4;
  return c;
}

}  // namespace

TEST_CASE("sequencer: a hole neither line fills is requested, and the reply fills it", "[sequencer]") {
  Out out;
  Channel ch;
  Recovering a(recovering(1), out, &ch);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(2), 10);  // 4..6 missing on A
  a.packet(1, packet(2), 20);  // and on B
  a.idle(500);
  CHECK(ch.sent.empty());  // the other line may still have it
  a.idle(1010);
  REQUIRE(ch.sent.size() == 1);
  CHECK(ch.sent[0] == Request{0, "SESSION001", 4, 3});
  CHECK(a.awaitingReplies());
  a.retransmission(reply(4, 3), 1100);
  CHECK(out.sequences == range(1, 9));
  CHECK(out.gaps.empty());
  CHECK(a.counters().recovered() == 3);
  CHECK_FALSE(a.awaitingReplies());
  a.idle(100'000);
  CHECK(ch.sent.size() == 1);  // nothing more to ask
  CHECK(a.counters().line[0].applied == 6);
  CHECK(a.counters().line[1].duplicates == 3);
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: an unanswered request is sent again, then to the next server, then the hole is lost",
          "[sequencer]") {
  Out out;
  Channel ch;
  Recovering a(recovering(2), out, &ch);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(2), 10);
  a.idle(1010);    // request 1 to server 0, deadline +10 µs
  a.idle(11'000);  // not yet
  a.idle(11'020);  // again, the wait doubled to 20 µs
  a.idle(31'030);  // attempts to server 0 used up: server 1
  a.idle(41'040);  // again on server 1 (20 µs)
  CHECK(out.gaps.empty());
  a.idle(61'050);  // every server tried: lost
  std::vector<uint32_t> servers;
  for (const Request& r : ch.sent) servers.push_back(r.server);
  CHECK(servers == std::vector<uint32_t>{0, 0, 1, 1});
  for (const Request& r : ch.sent) CHECK((r.first == 4 && r.count == 3));
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 3});
  CHECK(a.counters().retransmission.retries == 3);
  CHECK(a.counters().retransmission.failovers == 1);
  CHECK(a.counters().retransmission.exhausted == 1);
  CHECK(out.sequences == [] {
    auto v = range(1, 3);
    for (uint64_t s = 7; s <= 9; ++s) v.push_back(s);
    return v;
  }());
  // The reply comes after all: late, counted, not applied.
  a.retransmission(reply(4, 3), 70'000);
  CHECK(a.counters().line[2].late == 3);
  CHECK(a.counters().recovered() == 0);
  CHECK(a.counters().gapMessages == 3);
  checkAccounting(a.counters());
  // The next hole goes to server 1 first: it is the one that was tried last.
  a.packet(0, packet(4), 80'000);
  a.idle(90'000);
  REQUIRE(ch.sent.size() == 5);
  CHECK(ch.sent[4] == Request{1, "SESSION001", 10, 3});
}

TEST_CASE("sequencer: a reply of another session is dropped and the hole stays open", "[sequencer]") {
  Out out;
  Channel ch;
  Recovering a(recovering(1), out, &ch);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(2), 10);
  a.idle(1010);
  a.retransmission(reply(4, 3, "SESSION002"), 1100);
  CHECK(a.counters().retransmission.wrongSession == 1);
  CHECK(out.sequences == range(1, 3));
  CHECK(a.awaitingReplies());
  a.retransmission(reply(4, 3), 1200);
  CHECK(out.sequences == range(1, 9));
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: a large hole is asked for in pieces, a bounded number at once, capped replies ask for the rest",
          "[sequencer]") {
  Out out;
  Channel ch;
  Recovering a(recovering(1, 4), out, &ch);  // at most 4 messages a request, 4 in flight
  a.packet(0, packet(0), 0);
  // Holes of six messages: 4..9, 13..18, 22..27, 31..36, 40..45.
  for (uint64_t k = 3; k <= 15; k += 3) a.packet(0, packet(k), k);
  a.idle(2000);
  // Four in flight: each hole in parts of at most 4, oldest first.
  REQUIRE(ch.sent.size() == 4);
  CHECK(ch.sent[0] == Request{0, "SESSION001", 4, 4});
  CHECK(ch.sent[1] == Request{0, "SESSION001", 8, 2});
  CHECK(ch.sent[2] == Request{0, "SESSION001", 13, 4});
  CHECK(ch.sent[3] == Request{0, "SESSION001", 17, 2});
  // The server answers the first with 2 of its 4: the rest is asked for at once.
  a.retransmission(reply(4, 2), 2100);
  REQUIRE(ch.sent.size() == 5);
  CHECK(ch.sent[4] == Request{0, "SESSION001", 6, 2});
  a.retransmission(reply(6, 2), 2200);
  // That request is done: its place goes to the next hole.
  REQUIRE(ch.sent.size() == 6);
  CHECK(ch.sent[5] == Request{0, "SESSION001", 22, 4});
  // A server that answers everything asked: all of it comes.
  size_t answeredUpTo = 0;
  for (int t = 1; t <= 50 && out.sequences.size() < 48; ++t) {
    a.idle(100'000 * uint64_t(t));
    for (; answeredUpTo < ch.sent.size(); ++answeredUpTo) {
      const Request r = ch.sent[answeredUpTo];
      a.retransmission(reply(r.first, r.count), 100'000 * uint64_t(t) + 1);
    }
  }
  for (const Request& r : ch.sent) CHECK(r.count <= 4);
  CHECK(out.sequences == range(1, 48));
  CHECK(out.gaps.empty());
  CHECK(a.counters().recovered() == 30);
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: random loss on both lines, a server that answers: every message once, in order", "[sequencer]") {
  Out out;
  Channel ch;
  auto config = recovering(1, 0xFFFE);
  config.heldPackets = 256;
  Recovering a(config, out, &ch);
  std::mt19937 rng(11);
  uint64_t now = 0;
  size_t answered = 0;
  const uint64_t packets = 5000;
  for (uint64_t k = 0; k < packets; ++k) {
    now += 300;
    if (k == 0 || rng() % 20 != 0) a.packet(0, packet(k), now);       // 5% lost on A
    if (k == 0 || rng() % 20 != 0) a.packet(1, packet(k), now + 50);  // and, independently, on B
    // The server answers each request a little later, from the whole day.
    for (; answered < ch.sent.size(); ++answered) {
      const Request r = ch.sent[answered];
      std::vector<uint8_t> buf(1500);
      fh::mold::PacketBuilder b(buf, "SESSION001", r.first);
      for (uint64_t m = r.first; m < r.first + r.count && m <= 3 * packets; ++m) {
        const uint8_t msg[5] = {'X', uint8_t(m >> 24), uint8_t(m >> 16), uint8_t(m >> 8), uint8_t(m)};
        if (!b.add(msg)) break;
      }
      buf.resize(b.finish().size());
      a.retransmission(buf, now + 100);
    }
  }
  a.packet(0, control(3 * packets + 1, 0), now + 1000);  // the last heartbeat reveals a tail hole
  for (int t = 1; t <= 20; ++t) {
    a.idle(now + 1000 * uint64_t(t) * 10);
    for (; answered < ch.sent.size(); ++answered) {
      const Request r = ch.sent[answered];
      a.retransmission(reply(r.first, std::min<uint64_t>(r.count, 3 * packets + 1 - r.first)),
                       now + 1000 * uint64_t(t) * 10 + 1);
    }
  }
  CHECK(out.sequences == range(1, 3 * packets));
  CHECK(out.gaps.empty());
  CHECK(a.counters().recovered() > 0);
  CHECK(a.counters().recovered() % 3 == 0);
  CHECK_FALSE(a.awaitingReplies());
  CHECK(a.counters().heldMessages == 0);
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: without a server a hole is lost after the wait, the accounting adds up", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 16, .gapTimeoutNs = 1000}, out);
  a.packet(0, packet(0), 0);
  a.packet(1, packet(0), 1);
  a.packet(0, packet(2), 10);
  a.packet(0, packet(0, "OTHERSESSN"), 11);
  std::vector<uint8_t> overrun = packet(3);
  overrun.resize(overrun.size() - 3);  // its last block is cut short
  a.packet(1, overrun, 12);
  checkAccounting(a.counters());
  a.idle(5000);
  a.packet(1, packet(1), 6000);  // late
  CHECK(a.counters().line[1].late == 3);
  CHECK(a.counters().line[1].unparsed == 1);
  CHECK(a.counters().line[0].foreign == 3);
  CHECK(a.counters().line[1].duplicates == 3);
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: a line that sends nothing while the session is open is silent until it sends", "[sequencer]") {
  Out out;
  fh::feed::SequencerConfig c;
  c.lineSilenceNs = 1000;
  Sequencer a(c, out);
  a.packet(0, packet(0), 0);
  a.packet(1, packet(0), 1);
  a.packet(0, packet(1), 800);
  a.idle(1500);
  CHECK(a.counters().line[0].silent == 0);
  CHECK(a.counters().line[1].silent == 1);
  CHECK(a.counters().line[1].silences == 1);
  a.idle(1600);
  CHECK(a.counters().line[1].silences == 1);  // once a silence
  a.packet(1, packet(1), 1700);
  CHECK(a.counters().line[1].silent == 0);
  a.packet(0, control(7, 0xFFFF), 1800);  // the session is over: quiet is expected
  a.idle(100'000);
  CHECK(a.counters().line[0].silent == 0);
  CHECK(a.counters().line[1].silences == 1);
}

TEST_CASE("sequencer: the part of a hole no server has is lost alone, the parts that came go out", "[sequencer]") {
  Out out;
  Channel ch;
  Recovering a(recovering(1, 3), out, &ch);  // parts of 3, 2 attempts
  a.packet(0, packet(0), 0);
  a.packet(0, packet(3), 10);  // 4..9 missing
  a.idle(1010);
  REQUIRE(ch.sent.size() == 2);
  CHECK(ch.sent[0] == Request{0, "SESSION001", 4, 3});
  CHECK(ch.sent[1] == Request{0, "SESSION001", 7, 3});
  a.retransmission(reply(7, 3), 1100);  // only the second part comes
  CHECK(out.sequences == range(1, 3));
  a.idle(11'100);  // the first part again
  a.idle(31'200);  // and given up
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 3});
  auto want = range(1, 3);
  for (uint64_t s = 7; s <= 12; ++s) want.push_back(s);
  CHECK(out.sequences == want);
  CHECK(a.counters().recovered() == 3);
  CHECK(a.counters().gapMessages == 3);
  CHECK_FALSE(a.awaitingReplies());
  checkAccounting(a.counters());
}

// --- Found in review: each failed before its fix ---

TEST_CASE("sequencer: a full store gives up only the holes before the packet that came, never its messages",
          "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 4, .gapTimeoutNs = 1'000'000'000}, out);
  a.packet(0, packet(0), 0);                                    // 1..3
  for (uint64_t k = 3; k <= 6; ++k) a.packet(0, packet(k), k);  // 10..21 held: the store is full
  a.packet(1, packet(2), 10);                                   // B, lagging: 7..9
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{4, 3});  // only 4..6
  auto want = range(1, 3);
  for (uint64_t s = 7; s <= 21; ++s) want.push_back(s);
  CHECK(out.sequences == want);
  CHECK(a.counters().line[1].late == 0);
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: a packet too large to hold loses only what is missing before it", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 16, .gapTimeoutNs = 1'000'000'000}, out);
  a.packet(0, packet(0), 0);  // 1..3
  a.packet(0, packet(4), 1);  // 13..15 held
  // 7..9 in a packet larger than a hold slot (a jumbo frame): the messages 4..6 before it are lost, not it.
  std::vector<uint8_t> big(3000);
  fh::mold::PacketBuilder b(big, "SESSION001", 7);
  for (uint64_t m = 7; m <= 9; ++m) {
    std::vector<uint8_t> msg(900, 0);
    msg[0] = 'X';
    REQUIRE(b.add(msg));
  }
  big.resize(b.finish().size());
  struct Long {
    std::vector<uint64_t> seen;
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    void message(uint64_t seq, uint64_t, const uint8_t*, uint16_t) noexcept { seen.push_back(seq); }
    void gap(uint64_t f, uint64_t c) noexcept { gaps.emplace_back(f, c); }
    void endOfSession() noexcept {}
    void endOfPacket() noexcept {}
    void join(uint64_t) noexcept {}
    void newSession() noexcept {}
  } sink;
  fh::feed::Sequencer<Long> c({.heldPackets = 16, .gapTimeoutNs = 1'000'000'000}, sink);
  c.packet(0, packet(0), 0);
  c.packet(0, packet(4), 1);
  c.packet(1, big, 2);
  CHECK(sink.gaps == std::vector<std::pair<uint64_t, uint64_t>>{{4, 3}});
  CHECK(sink.seen == std::vector<uint64_t>{1, 2, 3, 7, 8, 9});  // 10..12 still awaited, 13..15 held
  CHECK(c.counters().line[1].applied == 3);
  checkAccounting(c.counters());
}

TEST_CASE("sequencer: a malformed held copy does not make the other line's good copy a duplicate", "[sequencer]") {
  Out out;
  Sequencer a({.heldPackets = 16, .gapTimeoutNs = 1'000'000'000}, out);
  a.packet(0, packet(0), 0);             // 1..3
  std::vector<uint8_t> cut = packet(2);  // 7..9, cut after message 7
  cut.resize(20 + 7 + 3);
  a.packet(0, cut, 1);
  a.packet(1, packet(2), 2);  // B's good copy of 7..9
  a.packet(1, packet(1), 3);  // and 4..6
  CHECK(out.sequences == range(1, 9));
  CHECK(out.gaps.empty());
  CHECK(a.counters().line[0].malformed == 1);
  CHECK(a.counters().line[0].unparsed == 2);
  checkAccounting(a.counters());
}

TEST_CASE("sequencer: the oldest hole gets its request even while younger ones hold every slot", "[sequencer]") {
  Out out;
  Channel ch;
  auto config = recovering(1);
  config.retransmission.attempts = 1;
  config.retransmission.inFlight = 1;
  Recovering a(config, out, &ch);
  a.packet(0, packet(0), 0);    // 1..3
  a.packet(0, packet(4), 10);   // 13..15: 4..12 missing
  a.packet(1, packet(2), 900);  // B brings 7..9 late: holes 4..6 (due at 1900) and 10..12 (due at 1010)
  a.idle(1010);
  REQUIRE(ch.sent.size() == 1);
  CHECK(ch.sent[0].first == 10);
  a.idle(1900);    // 4..6 is due, but the one slot is taken
  a.idle(11'010);  // the younger request times out (and is given up)
  a.idle(21'100);
  bool askedOldest = false;
  for (const Request& r : ch.sent) askedOldest = askedOldest || r.first == 4;
  CHECK(askedOldest);
  a.idle(200'000);
  CHECK(out.gaps.size() == 2);  // neither was answered: both lost, in order
  CHECK(out.sequences.back() == 15);
  CHECK_FALSE(a.awaitingReplies());
}

TEST_CASE("sequencer: a request the lines answered is dropped at once, not kept in flight", "[sequencer]") {
  Out out;
  Channel ch;
  Recovering a(recovering(1), out, &ch);
  a.packet(0, packet(0), 0);
  a.packet(0, packet(2), 10);  // 4..6 missing
  a.packet(0, packet(4), 20);  // 10..12 missing too
  a.idle(1030);
  REQUIRE(ch.sent.size() == 2);
  a.packet(1, packet(3), 1040);  // B brings 10..12: held behind 4..6
  a.idle(1050);
  CHECK(a.counters().retransmission.inFlight == 1);  // only 4..6 is still asked for
}

TEST_CASE("sequencer: a packet whose sequences would wrap is malformed", "[sequencer]") {
  Out out;
  Sequencer a({}, out);
  a.packet(0, packet(0), 0);
  std::vector<uint8_t> p = packet(1);
  for (int i = 0; i < 8; ++i) p[10 + i] = 0xFF;
  a.packet(0, p, 1);
  CHECK(a.counters().line[0].malformed == 1);
  CHECK(out.sequences == range(1, 3));
  checkAccounting(a.counters());
}
