// A/B arbitration of MoldUDP64 lines: every message once and in order
// whatever the lines lose, duplicate or reorder; holes that neither line fills
// become gaps, with their exact extent, after the timeout or when the store of
// held packets is full.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
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

TEST_CASE("sequencer: each line loses packets the other has; nothing is lost", "[sequencer]") {
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
  a.packet(0, control(4, 0), 1);  // heartbeat: next is 4, nothing missing
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
  a.packet(0, packet(2), 1);                 // held: 4..6 missing
  a.packet(1, packet(0, "OTHERSESSN"), 2);   // a stray packet: not evidence
  a.packet(1, packet(1), 3);                 // line B fills the hole
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
  a.packet(0, packet(2), 2);                 // held: the old session owes 4..6
  a.packet(0, packet(0, "SESSION002"), 3);   // line A moved on first
  a.packet(0, packet(1, "SESSION002"), 4);
  CHECK(a.counters().foreignPackets == 2);
  CHECK(out.sequences == range(1, 3));
  a.packet(1, packet(0, "SESSION002"), 5);   // line B agrees: accepted
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
  a.packet(0, packet(1), 2);                  // the old session again: evidence starts over
  a.packet(0, packet(5, "SESSION002"), 3);
  a.packet(0, packet(6, "SESSION002"), 4);
  CHECK(a.counters().sessionChanges == 0);
  a.packet(0, packet(7, "SESSION002"), 5);    // third in a row: accepted from 16, the lowest it showed
  CHECK(a.counters().sessionChanges == 1);
  CHECK(a.counters().foreignPackets == 3);
  CHECK(out.newSessions == 1);
  CHECK(out.joins == std::vector<uint64_t>{16});
  CHECK(a.counters().joinedAt == 16);
  a.idle(10'000'000);                          // 16..21 were dropped as evidence: lost
  REQUIRE(out.gaps.size() == 1);
  CHECK(out.gaps[0] == std::pair<uint64_t, uint64_t>{16, 6});
  CHECK(out.sequences.back() == 24);
}
