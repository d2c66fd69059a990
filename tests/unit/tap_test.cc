// The capture tap: a capture's lock switches the writer's tap on and its end
// switches it off; packets come out as they went in, a lapped reader counts
// what it missed, an oversized payload is refused and counted; a region
// without a tap, or whose tap header lies, is refused. And the pcapng that
// fhctl capture writes, read back by the project's own capture reader.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include "capture/capture.h"
#include "capture/pcapng_writer.h"
#include "process.h"
#include "shm/consumer.h"
#include "shm/tap.h"
#include "shm/writer.h"
#include "shm_fixture.h"

namespace {

using fh::shm::Consumer;
using fh::shm::TapLine;
using fh::shm::TapReader;
using fh::test::TempDir;

Consumer attach(const TempDir& dir) {
  Consumer::Options o;
  o.directory = dir.str();
  return Consumer("t", o);
}

std::vector<uint8_t> payload(size_t bytes, uint8_t seed) {
  std::vector<uint8_t> p(bytes);
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(seed + i * 7);
  return p;
}

}  // namespace

TEST_CASE("tap: on while a capture holds its lock, off when it goes, packets come out as they went in", "[tap][shm]") {
  TempDir dir;
  fh::shm::RegionConfig config = fh::test::smallRegion(dir);
  config.tapEndpoints[0] = {0xC6120001, 0xEF010101, 0, 26400, 17, {}};
  fh::shm::RegionWriter w(config);
  const Consumer c = attach(dir);
  REQUIRE(c.tapHeader() != nullptr);
  CHECK(c.tapBytes() == fh::shm::kMinTapBytes);

  CHECK_FALSE(w.probeTap());
  CHECK_FALSE(w.tapping());
  auto reader = std::make_unique<TapReader>(c);
  CHECK_FALSE(reader->active());
  CHECK(w.probeTap());
  CHECK(w.tapping());
  CHECK(reader->active());
  CHECK(reader->endpoints(TapLine::A).dstAddr == 0xEF010101);
  CHECK(reader->endpoints(TapLine::A).dstPort == 26400);
  CHECK(reader->endpoints(TapLine::B).protocol == 0);

  // Every size around the word and the header, on every line.
  std::vector<std::vector<uint8_t>> sent;
  for (size_t bytes : {0, 1, 7, 8, 9, 20, 1400, 9000}) sent.push_back(payload(bytes, static_cast<uint8_t>(bytes)));
  for (size_t i = 0; i < sent.size(); ++i) w.tap(static_cast<TapLine>(i % fh::shm::kTapLines), 1000 + i, sent[i]);
  for (size_t i = 0; i < sent.size(); ++i) {
    TapReader::Packet p;
    REQUIRE(reader->next(p));
    CHECK(p.index == i);
    CHECK(p.recvNs == 1000 + i);
    CHECK(p.line == static_cast<TapLine>(i % fh::shm::kTapLines));
    CHECK(std::vector<uint8_t>(p.payload.begin(), p.payload.end()) == sent[i]);
  }
  TapReader::Packet none;
  CHECK_FALSE(reader->next(none));
  CHECK(reader->lost() == 0);
  CHECK(c.tapHeader()->packets.load() == sent.size());

  // A second capture shares the tap; the last to go switches it off.
  auto second = std::make_unique<TapReader>(c);
  reader.reset();
  CHECK(w.probeTap());
  second.reset();
  CHECK_FALSE(w.probeTap());
  CHECK_FALSE(w.tapping());
}

TEST_CASE("tap: a lapped capture counts every packet it missed and reads on, an oversized one is refused",
          "[tap][shm]") {
  TempDir dir;
  fh::shm::RegionWriter w(fh::test::smallRegion(dir));
  const Consumer c = attach(dir);
  TapReader reader(c);
  REQUIRE(w.probeTap());
  // Packets tapped before a capture starts are not its own, nor its losses.
  w.tap(TapLine::A, 1, payload(10, 1));
  reader.start();

  // 1 MiB of ring; 3000 packets of 1400 bytes are 4.3 MiB: the reader, which
  // reads none meanwhile, is lapped, goes on at the newest packet, and counts
  // every one before it as lost.
  const std::vector<uint8_t> p = payload(1400, 3);
  for (uint64_t i = 1; i <= 3000; ++i) w.tap(TapLine::B, i, p);
  uint64_t seen = 0;
  TapReader::Packet got;
  while (reader.next(got)) {
    CHECK(got.recvNs == got.index);
    CHECK(std::equal(got.payload.begin(), got.payload.end(), p.begin(), p.end()));
    ++seen;
  }
  CHECK(got.index == 3000);
  CHECK(seen >= 1);
  CHECK(reader.lost() + seen == 3000);  // indexes 1 .. 3000
  CHECK(reader.resyncs() >= 1);

  // Then it keeps up again.
  for (uint64_t i = 0; i < 10; ++i) w.tap(TapLine::A, 5000 + i, p);
  for (uint64_t i = 0; i < 10; ++i) {
    REQUIRE(reader.next(got));
    CHECK(got.index == 3001 + i);
  }
  const uint64_t lostBefore = reader.lost();

  // More than a quarter of the ring, or more than UDP can carry: refused, counted.
  const std::vector<uint8_t> huge(70000, 1);
  w.tap(TapLine::A, 1, huge);
  CHECK(c.tapHeader()->refused.load() == 1);
  CHECK_FALSE(reader.next(got));
  CHECK(reader.lost() == lostBefore);
}

TEST_CASE("tap: a region without one has none, a bad size is refused naming its key", "[tap][shm]") {
  TempDir dir;
  fh::shm::RegionConfig config = fh::test::smallRegion(dir);
  config.tapBytes = 0;
  {
    fh::shm::RegionWriter w(config);
    const Consumer c = attach(dir);
    CHECK(c.tapHeader() == nullptr);
    CHECK_THROWS_WITH(TapReader(c), Catch::Contains("has no capture tap"));
    CHECK_FALSE(w.probeTap());
    CHECK_FALSE(w.tapping());
  }
  config.tapBytes = 3 << 20;
  CHECK_THROWS_WITH(fh::shm::RegionWriter(config), Catch::Contains("shm.tap_mib"));
  config.tapBytes = 512 << 10;
  CHECK_THROWS_WITH(fh::shm::RegionWriter(config), Catch::Contains("shm.tap_mib"));
}

TEST_CASE("tap: a region whose tap header lies is refused", "[tap][shm][hardening]") {
  TempDir dir;
  fh::shm::RegionWriter w(fh::test::smallRegion(dir));
  auto& header = const_cast<fh::shm::RegionHeader&>(w.header());
  const auto refused = [&] {
    try {
      attach(dir);
    } catch (const fh::shm::AttachError& e) {
      return e.kind() == fh::shm::AttachError::Kind::NotARegion &&
             std::string(e.what()).find("capture tap") != std::string::npos;
    }
    return false;
  };
  CHECK_FALSE(refused());
  SECTION("a ring larger than the file") {
    header.tapBytes = 1ull << 30;
    CHECK(refused());
  }
  SECTION("a ring that is not a power of two") {
    header.tapBytes = (1 << 20) + 4096;
    CHECK(refused());
  }
  SECTION("a tap elsewhere") {
    header.tapOffset += 4096;
    CHECK(refused());
  }
}

TEST_CASE("tap: the pcapng of a capture reads back: interfaces, ns times, IPv4/UDP and TCP headers", "[tap][capture]") {
  TempDir dir;
  const std::string path = dir.str() + "/c.pcapng";
  const std::vector<uint8_t> mold = payload(333, 9), soup = payload(70, 1);
  std::vector<uint8_t> frame;
  {
    fh::capture::PcapNgWriter out(path, "test", "a comment");
    const uint16_t raw = static_cast<uint16_t>(fh::capture::LinkType::RawIp);
    CHECK(out.addInterface(raw, "fh:t:a", "line A") == 0);
    CHECK(out.addInterface(raw, "fh:t:snapshot", "snapshot") == 1);
    fh::capture::ipv4Udp(frame, 0xC6120001, 0xEF010101, 1234, 26400, 7, mold);
    out.packet(0, 1'796'000'000'123'456'789ull, frame);
    fh::capture::ipv4Tcp(frame, 0xC6120001, 0, 26600, 0, 8, 1, soup);
    out.packet(1, 1'796'000'000'123'456'790ull, frame);
    out.statistics(0, 1, 2, 1, 0, "");
    out.statistics(1, 1, 2, 1, std::nullopt, "lost: unknown");
    out.finish();
  }
  const fh::capture::MappedFile file(path);
  REQUIRE(fh::capture::detectFormat(file.bytes()) == fh::capture::Format::PcapNg);
  std::vector<fh::capture::Frame> frames;
  std::vector<std::vector<uint8_t>> data;
  const fh::capture::FrameResult r =
      fh::capture::forEachFrame(file.bytes(), fh::capture::Format::PcapNg, [&](const fh::capture::Frame& f) {
        frames.push_back(f);
        data.emplace_back(f.data.begin(), f.data.end());
      });
  CHECK(r.error.empty());
  CHECK_FALSE(r.truncated);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].timestampNs == 1'796'000'000'123'456'789ull);
  CHECK(frames[1].timestampNs == 1'796'000'000'123'456'790ull);
  fh::capture::UdpDatagram d;
  REQUIRE(fh::capture::parseUdp(frames[0], d) == fh::capture::SkipReason::None);
  CHECK(d.srcAddr == 0xC6120001);
  CHECK(d.dstAddr == 0xEF010101);
  CHECK(d.srcPort == 1234);
  CHECK(d.dstPort == 26400);
  CHECK(fh::capture::ipv4ChecksumOk(d.ipHeader));
  CHECK(std::vector<uint8_t>(d.payload.begin(), d.payload.end()) == mold);
  CHECK(fh::capture::parseUdp(frames[1], d) == fh::capture::SkipReason::NotUdp);
  // The TCP segment: IPv4 checksum, and TCP's over the pseudo-header, both hold.
  const std::vector<uint8_t>& tcp = data[1];
  REQUIRE(tcp.size() == 40 + soup.size());
  CHECK(fh::capture::ipv4ChecksumOk(std::span(tcp).first(20)));
  uint32_t sum = 0;
  for (size_t i = 12; i < 20; i += 2) sum += uint32_t{tcp[i]} << 8 | tcp[i + 1];
  sum += 6 + static_cast<uint32_t>(tcp.size() - 20);
  for (size_t i = 20; i + 1 < tcp.size(); i += 2) sum += uint32_t{tcp[i]} << 8 | tcp[i + 1];
  if (tcp.size() % 2 != 0) sum += uint32_t{tcp.back()} << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  CHECK(sum == 0xFFFF);
  CHECK(std::equal(soup.begin(), soup.end(), tcp.begin() + 40));
}
