// MoldUDP64 downstream packets written out byte by byte (10-byte session,
// 8-byte sequence of the first block, 2-byte count, then per block a 2-byte
// length and the message): normal packets, heartbeats, end of session and
// every malformed shape, session trimming, the counters, and PacketBuilder.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "itch/decoder.h"
#include "mold/moldudp64.h"

using fh::mold::forEachMessage;
using fh::mold::PacketBuilder;
using fh::mold::PacketCounters;
using fh::mold::PacketKind;
using fh::mold::PacketResult;

namespace {

struct Block {
  uint64_t sequence;
  std::vector<uint8_t> bytes;
  const uint8_t* where;  // into the packet
};

struct Parsed {
  PacketResult result;
  std::vector<Block> blocks;
};

Parsed parse(std::span<const uint8_t> packet) {
  Parsed p{};
  p.result = forEachMessage(packet, [&](uint64_t sequence, const uint8_t* msg, uint16_t length) {
    p.blocks.push_back({sequence, std::vector<uint8_t>(msg, msg + length), msg});
  });
  return p;
}

// The 20-byte header: session "000007525B", sequence 484,311,999 (0x1CDE03BF).
#define SESSION_000007525B '0', '0', '0', '0', '0', '7', '5', '2', '5', 'B'
#define SEQ_484311999 0x00, 0x00, 0x00, 0x00, 0x1C, 0xDE, 0x03, 0xBF
constexpr uint64_t kFirst = 484'311'999;

// ITCH messages used as block payloads.
#define MSG_S 'S', 0x00, 0x00, 0x00, 0x02, 0x09, 0xD2, 0x92, 0x29, 0xE0, 0x00, 'O'  // 12 bytes
#define MSG_D                                                                                                \
  'D', 0x0B, 0xE1, 0x00, 0x00, 0x1F, 0x1A, 0xCE, 0xD9, 0xF0, 0xE6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4A, 0x07, \
      0xEE  // 19 bytes
#define MSG_A                                                                                                      \
  'A', 0x1D, 0x52, 0x00, 0x00, 0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1, 0x00, 0x00, 0x00, 0x00, 0x1A, 0x0A, 0xF5, 0xBC, \
      'S', 0x00, 0x00, 0x01, 0x90, 'T', 'V', 'I', 'X', ' ', ' ', ' ', ' ', 0x00, 0x03, 0xEE, 0x40  // 36 bytes

const std::vector<uint8_t> kS = {MSG_S};
const std::vector<uint8_t> kD = {MSG_D};
const std::vector<uint8_t> kA = {MSG_A};

}  // namespace

TEST_CASE("mold: one message", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 sequence of the first message
      0x00,
      0x01,  // 18 message count 1
      0x00,
      0x0C,   // 20 block length 12
      MSG_S,  // 22 the message
  };
  static_assert(sizeof packet == 20 + 2 + 12);
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Messages);
  CHECK_FALSE(p.result.malformed());
  CHECK(p.result.header.sequence == kFirst);
  CHECK(p.result.header.count == 1);
  CHECK(p.result.header.sessionTrimmed() == "000007525B");
  CHECK(p.result.blocks == 1);
  REQUIRE(p.blocks.size() == 1);
  CHECK(p.blocks[0].sequence == kFirst);
  CHECK(p.blocks[0].bytes == kS);
  CHECK(p.blocks[0].where == packet + 22);  // in place, not copied
}

TEST_CASE("mold: three messages get consecutive sequence numbers", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 sequence
      0x00,
      0x03,  // 18 count 3
      0x00,
      0x0C,
      MSG_S,  // 20 block 1: 12 bytes
      0x00,
      0x13,
      MSG_D,  // 34 block 2: 19 bytes
      0x00,
      0x24,
      MSG_A,  // 55 block 3: 36 bytes
  };
  static_assert(sizeof packet == 20 + 14 + 21 + 38);
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Messages);
  CHECK(p.result.header.count == 3);
  CHECK(p.result.blocks == 3);
  REQUIRE(p.blocks.size() == 3);
  CHECK(p.blocks[0].sequence == kFirst);
  CHECK(p.blocks[1].sequence == kFirst + 1);
  CHECK(p.blocks[2].sequence == kFirst + 2);
  CHECK(p.blocks[0].bytes == kS);
  CHECK(p.blocks[1].bytes == kD);
  CHECK(p.blocks[2].bytes == kA);
  CHECK(p.blocks[2].where == packet + 57);

  struct Types {
    std::string seen;
    void on(const fh::itch::SystemEvent&) { seen += 'S'; }
    void on(const fh::itch::OrderDelete&) { seen += 'D'; }
    void on(const fh::itch::AddOrder&) { seen += 'A'; }
  } types;
  for (const Block& b : p.blocks)
    CHECK(fh::itch::decode(b.bytes.data(), b.bytes.size(), types) == fh::itch::DecodeStatus::Ok);
  CHECK(types.seen == "SDA");
}

TEST_CASE("mold: heartbeat", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 next sequence number expected
      0x00, 0x00,          // 18 count 0: heartbeat
  };
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Heartbeat);
  CHECK_FALSE(p.result.malformed());
  CHECK(p.result.header.sequence == kFirst);
  CHECK(p.result.header.count == 0);
  CHECK(p.result.header.sessionTrimmed() == "000007525B");
  CHECK(p.result.blocks == 0);
  CHECK(p.blocks.empty());
}

TEST_CASE("mold: end of session", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 sequence
      0xFF, 0xFF,          // 18 count 0xFFFF: end of session
  };
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::EndOfSession);
  CHECK_FALSE(p.result.malformed());
  CHECK(p.result.header.count == 0xFFFF);
  CHECK(p.result.header.sequence == kFirst);
  CHECK(p.result.blocks == 0);
  CHECK(p.blocks.empty());
}

TEST_CASE("mold: shorter than the header is Truncated", "[mold]") {
  const uint8_t header[] = {SESSION_000007525B, SEQ_484311999, 0x00, 0x01};
  for (size_t n : {size_t{0}, size_t{1}, size_t{10}, size_t{18}, size_t{19}}) {
    INFO(n << " bytes");
    const Parsed p = parse(std::span<const uint8_t>(header, n));
    CHECK(p.result.kind == PacketKind::Truncated);
    CHECK(p.result.malformed());
    CHECK(p.result.blocks == 0);
    CHECK(p.blocks.empty());
  }
  // An empty span with no storage behind it at all.
  CHECK(parse(std::span<const uint8_t>{}).result.kind == PacketKind::Truncated);
}

TEST_CASE("mold: a count beyond the blocks present is Overrun, earlier blocks delivered", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 sequence
      0x00,
      0x03,  // 18 count 3, but only two blocks follow
      0x00,
      0x0C,
      MSG_S,  // 20 block 1
      0x00,
      0x13,
      MSG_D,  // 34 block 2, ends exactly at the end of the packet
  };
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Overrun);
  CHECK(p.result.malformed());
  CHECK(p.result.header.count == 3);
  CHECK(p.result.blocks == 2);
  REQUIRE(p.blocks.size() == 2);
  CHECK(p.blocks[0].sequence == kFirst);
  CHECK(p.blocks[1].sequence == kFirst + 1);
  CHECK(p.blocks[0].bytes == kS);
  CHECK(p.blocks[1].bytes == kD);
}

TEST_CASE("mold: a block running past the end is Overrun, earlier blocks delivered", "[mold]") {
  SECTION("the message is cut") {
    const uint8_t packet[] = {
        SESSION_000007525B,  // 0  session
        SEQ_484311999,       // 10 sequence
        0x00,
        0x02,  // 18 count 2
        0x00,
        0x0C,
        MSG_S,  // 20 block 1
        0x00,
        0x24,
        'A',
        0x1D,
        0x52,
        0x00,
        0x00  // 34 block 2 says 36 bytes, 5 follow
    };
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::Overrun);
    CHECK(p.result.blocks == 1);
    REQUIRE(p.blocks.size() == 1);
    CHECK(p.blocks[0].bytes == kS);
    CHECK(p.blocks[0].sequence == kFirst);
  }
  SECTION("the length prefix is cut") {
    const uint8_t packet[] = {
        SESSION_000007525B,  // 0  session
        SEQ_484311999,       // 10 sequence
        0x00,
        0x02,  // 18 count 2
        0x00,
        0x0C,
        MSG_S,  // 20 block 1
        0x00,   // 34 one byte of block 2's length
    };
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::Overrun);
    CHECK(p.result.blocks == 1);
    REQUIRE(p.blocks.size() == 1);
    CHECK(p.blocks[0].bytes == kS);
  }
  SECTION("the first block already overruns") {
    const uint8_t packet[] = {
        SESSION_000007525B,  // 0  session
        SEQ_484311999,       // 10 sequence
        0x00,
        0x01,  // 18 count 1
        0xFF,
        0xFF,
        MSG_S,  // 20 length 65535, 12 bytes follow
    };
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::Overrun);
    CHECK(p.result.blocks == 0);
    CHECK(p.blocks.empty());
  }
  SECTION("a header and nothing else, count 1") {
    const uint8_t packet[] = {SESSION_000007525B, SEQ_484311999, 0x00, 0x01};
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::Overrun);
    CHECK(p.blocks.empty());
  }
}

TEST_CASE("mold: a zero-length block is delivered, and decodes as Empty", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 sequence
      0x00,
      0x02,  // 18 count 2
      0x00,
      0x00,  // 20 block 1: length 0
      0x00,
      0x0C,
      MSG_S,  // 22 block 2
  };
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Messages);
  CHECK(p.result.blocks == 2);
  REQUIRE(p.blocks.size() == 2);
  CHECK(p.blocks[0].sequence == kFirst);
  CHECK(p.blocks[0].bytes.empty());
  CHECK(p.blocks[1].sequence == kFirst + 1);
  CHECK(p.blocks[1].bytes == kS);
  struct None {
  } none;
  CHECK(fh::itch::decode(p.blocks[0].where, 0, none) == fh::itch::DecodeStatus::Empty);
  CHECK(fh::itch::decode(p.blocks[1].where, 12, none) == fh::itch::DecodeStatus::Ok);
}

TEST_CASE("mold: bytes after the last block are Trailing, the blocks still delivered", "[mold]") {
  const uint8_t packet[] = {
      SESSION_000007525B,  // 0  session
      SEQ_484311999,       // 10 sequence
      0x00,
      0x01,  // 18 count 1
      0x00,
      0x0C,
      MSG_S,  // 20 block 1
      0xDE,
      0xAD,
      0xBE,  // 34 three stray bytes
  };
  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Trailing);
  CHECK(p.result.malformed());
  CHECK(p.result.blocks == 1);
  REQUIRE(p.blocks.size() == 1);
  CHECK(p.blocks[0].bytes == kS);
  CHECK(p.blocks[0].sequence == kFirst);
}

TEST_CASE("mold: a heartbeat or end of session with bytes after it is Trailing", "[mold]") {
  SECTION("heartbeat") {
    const uint8_t packet[] = {SESSION_000007525B,
                              SEQ_484311999,
                              0x00,
                              0x00,  // count 0
                              0x00,
                              0x0C,
                              MSG_S};  // a block anyway
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::Trailing);
    CHECK(p.result.malformed());
    CHECK(p.result.blocks == 0);
    CHECK(p.blocks.empty());
  }
  SECTION("heartbeat and one byte") {
    const uint8_t packet[] = {SESSION_000007525B, SEQ_484311999, 0x00, 0x00, 0x00};
    CHECK(parse(packet).result.kind == PacketKind::Trailing);
  }
  SECTION("end of session") {
    const uint8_t packet[] = {SESSION_000007525B, SEQ_484311999, 0xFF, 0xFF, 0x00, 0x00};
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::Trailing);
    CHECK(p.blocks.empty());
  }
}

TEST_CASE("mold: session trimming", "[mold]") {
  auto sessionOf = [](std::array<uint8_t, 10> session) {
    std::array<uint8_t, 20> packet{};
    std::copy(session.begin(), session.end(), packet.begin());
    packet[18] = 0x00;  // heartbeat
    packet[19] = 0x00;
    const PacketResult r = forEachMessage(packet, [](uint64_t, const uint8_t*, uint16_t) {});
    REQUIRE(r.kind == PacketKind::Heartbeat);
    return std::string(r.header.sessionTrimmed());
  };
  CHECK(sessionOf({'0', '0', '0', '0', '0', '7', '5', '2', '5', 'B'}) == "000007525B");
  CHECK(sessionOf({'A', 'B', 'C', ' ', ' ', ' ', ' ', ' ', ' ', ' '}) == "ABC");
  CHECK(sessionOf({'A', 'B', 'C', 0, 0, 0, 0, 0, 0, 0}) == "ABC");
  CHECK(sessionOf({'A', 'B', 'C', ' ', 0, ' ', 0, 0, ' ', 0}) == "ABC");
  CHECK(sessionOf({'A', ' ', 'B', ' ', ' ', ' ', ' ', ' ', ' ', ' '}) == "A B");  // inner space kept
  CHECK(sessionOf({' ', 'A', 0, 0, 0, 0, 0, 0, 0, 0}) == " A");                   // leading space kept
  CHECK(sessionOf({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) == "");
  CHECK(sessionOf({' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}) == "");
  CHECK(sessionOf({'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'}) == "ABCDEFGHIJ");
  const std::string inner = sessionOf({'A', 0, 'B', 0, 0, 0, 0, 0, 0, 0});  // only the tail is trimmed
  CHECK(inner == std::string("A\0B", 3));
}

TEST_CASE("mold: PacketCounters", "[mold]") {
  PacketCounters c;
  const PacketKind kinds[] = {PacketKind::Messages,  PacketKind::Messages,  PacketKind::Messages,
                              PacketKind::Heartbeat, PacketKind::Heartbeat, PacketKind::EndOfSession,
                              PacketKind::Truncated, PacketKind::Overrun,   PacketKind::Overrun,
                              PacketKind::Trailing,  PacketKind::Trailing,  PacketKind::Trailing};
  for (PacketKind k : kinds) c.count(k);
  CHECK(c.packets == 12);
  CHECK(c.heartbeats == 2);
  CHECK(c.endOfSession == 1);
  CHECK(c.truncated == 1);
  CHECK(c.overrun == 2);
  CHECK(c.trailing == 3);
  CHECK(c.malformed() == 6);

  // Counting the results of real parses.
  PacketCounters d;
  const uint8_t ok[] = {SESSION_000007525B, SEQ_484311999, 0x00, 0x01, 0x00, 0x0C, MSG_S};
  const uint8_t heartbeat[] = {SESSION_000007525B, SEQ_484311999, 0x00, 0x00};
  const uint8_t overrun[] = {SESSION_000007525B, SEQ_484311999, 0x00, 0x02, 0x00, 0x0C, MSG_S};
  for (std::span<const uint8_t> packet : {std::span<const uint8_t>(ok), std::span<const uint8_t>(heartbeat),
                                          std::span<const uint8_t>(overrun), std::span<const uint8_t>(ok, 7)})
    d.count(parse(packet).result.kind);
  CHECK(d.packets == 4);
  CHECK(d.heartbeats == 1);
  CHECK(d.overrun == 1);
  CHECK(d.truncated == 1);
  CHECK(d.trailing == 0);
  CHECK(d.malformed() == 2);
}

TEST_CASE("mold: PacketResult::malformed", "[mold]") {
  auto malformed = [](PacketKind k) { return PacketResult{k, {}, 0}.malformed(); };
  CHECK_FALSE(malformed(PacketKind::Messages));
  CHECK_FALSE(malformed(PacketKind::Heartbeat));
  CHECK_FALSE(malformed(PacketKind::EndOfSession));
  CHECK(malformed(PacketKind::Truncated));
  CHECK(malformed(PacketKind::Overrun));
  CHECK(malformed(PacketKind::Trailing));
}

TEST_CASE("mold: PacketBuilder round trip", "[mold]") {
  std::array<uint8_t, 256> buffer{};
  PacketBuilder builder(buffer, "SESS1", 1000);
  CHECK(builder.count() == 0);
  CHECK(builder.size() == 20);
  REQUIRE(builder.add(kS));
  REQUIRE(builder.add(std::span<const uint8_t>{}));  // an empty block is a block
  REQUIRE(builder.add(kD));
  REQUIRE(builder.add(kA));
  CHECK(builder.count() == 4);
  CHECK(builder.size() == 20 + 14 + 2 + 21 + 38);
  const std::span<const uint8_t> packet = builder.finish();
  REQUIRE(packet.size() == 20 + 14 + 2 + 21 + 38);
  CHECK(packet.data() == buffer.data());

  const std::vector<uint8_t> expectedHeader = {
      'S',  'E',  'S',  'S',  '1',  ' ',  ' ',  ' ',  ' ', ' ',  // session padded with spaces
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8,            // sequence 1000
      0x00, 0x04,                                                // count 4
      0x00, 0x0C,                                                // first block's length
  };
  CHECK(std::vector<uint8_t>(packet.begin(), packet.begin() + 22) == expectedHeader);

  const Parsed p = parse(packet);
  CHECK(p.result.kind == PacketKind::Messages);
  CHECK(p.result.header.sessionTrimmed() == "SESS1");
  CHECK(p.result.header.sequence == 1000);
  REQUIRE(p.blocks.size() == 4);
  CHECK(p.blocks[0].sequence == 1000);
  CHECK(p.blocks[0].bytes == kS);
  CHECK(p.blocks[1].sequence == 1001);
  CHECK(p.blocks[1].bytes.empty());
  CHECK(p.blocks[2].sequence == 1002);
  CHECK(p.blocks[2].bytes == kD);
  CHECK(p.blocks[3].sequence == 1003);
  CHECK(p.blocks[3].bytes == kA);
}

TEST_CASE("mold: PacketBuilder heartbeat, end of session, long session", "[mold]") {
  std::array<uint8_t, 64> buffer{};
  {
    PacketBuilder builder(buffer, "000007525B", kFirst);
    const Parsed p = parse(builder.finish());
    CHECK(p.result.kind == PacketKind::Heartbeat);
    CHECK(p.result.header.sequence == kFirst);
    CHECK(p.result.header.sessionTrimmed() == "000007525B");
  }
  {
    PacketBuilder builder(buffer, "000007525B", kFirst);
    REQUIRE(builder.add(kS));
    const std::span<const uint8_t> packet = builder.finish(true);
    CHECK(packet.size() == 20);
    const Parsed p = parse(packet);
    CHECK(p.result.kind == PacketKind::EndOfSession);
    CHECK(p.blocks.empty());
  }
  {
    PacketBuilder builder(buffer, "ABCDEFGHIJKLMNOP", 7);  // only the first 10 bytes fit
    const Parsed p = parse(builder.finish());
    CHECK(p.result.header.sessionTrimmed() == "ABCDEFGHIJ");
  }
}

TEST_CASE("mold: PacketBuilder refuses a block that does not fit", "[mold]") {
  // Room for the header, one 12-byte block and one 11-byte block: 20 + 14 + 13.
  std::array<uint8_t, 47> buffer{};
  PacketBuilder builder(buffer, "S", 5);
  REQUIRE(builder.add(kS));
  CHECK(builder.size() == 34);
  const std::array<uint8_t, 12> before = [&] {
    std::array<uint8_t, 12> b{};
    std::copy(buffer.begin() + 34, buffer.begin() + 46, b.begin());
    return b;
  }();
  CHECK_FALSE(builder.add(kS));  // needs 14, 13 left
  CHECK(builder.count() == 1);
  CHECK(builder.size() == 34);
  CHECK(std::equal(before.begin(), before.end(), buffer.begin() + 34));  // nothing written
  const std::vector<uint8_t> eleven(kS.begin(), kS.begin() + 11);
  CHECK(builder.add(eleven));  // exactly fills the buffer
  CHECK(builder.size() == 47);
  CHECK_FALSE(builder.add(std::span<const uint8_t>{}));  // not even an empty block (2 bytes)
  CHECK(builder.count() == 2);

  const Parsed p = parse(builder.finish());
  CHECK(p.result.kind == PacketKind::Messages);
  REQUIRE(p.blocks.size() == 2);
  CHECK(p.blocks[0].sequence == 5);
  CHECK(p.blocks[0].bytes == kS);
  CHECK(p.blocks[1].sequence == 6);
  CHECK(p.blocks[1].bytes == eleven);
}
