// The update path never allocates: global operator new is counted while a
// real capture and a synthetic flow are replayed into warmed-up books, and
// while the sequencer holds, requests and takes replies.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "book/book_builder.h"
#include "capture/capture.h"
#include "feed/sequencer.h"
#include "itch/decoder.h"
#include "testdata.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<uint64_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Every form is replaced, so that what one form allocates another may free
// (ASan checks that new and delete match).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {
struct Discard {
  uint64_t n = 0;
  void mbo(const fh::record::MboMsg&) noexcept { ++n; }
  void mbp1(const fh::record::Mbp1Msg&) noexcept { ++n; }
};
}  // namespace

TEST_CASE("book: replaying a capture into warmed books allocates nothing", "[book][alloc]") {
  const fh::capture::MappedFile file(fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50"));
  fh::book::BookConfig config;
  config.maxOrders = 1 << 16;
  config.maxLevels = 1 << 16;
  fh::book::OrderBooks books(config);
  Discard sink;
  fh::book::BookBuilder<Discard> builder(books, sink, 0);

  // Sanity: the counter does see allocations.
  void* (*volatile allocate)(std::size_t) = &::operator new;
  counting = true;
  void* probe = allocate(8);
  counting = false;
  ::operator delete(probe);
  REQUIRE(allocations.exchange(0) == 1);

  counting = true;
  uint64_t decoded = 0;
  for (int pass = 0; pass < 3; ++pass)  // later passes re-add orders: duplicates, unknowns, level churn
    fh::capture::forEachRecord(file.bytes(), [&](uint64_t position, const uint8_t* msg, uint16_t n) {
      builder.setContext(position, 0);
      decoded += fh::itch::decode(msg, n, builder) == fh::itch::DecodeStatus::Ok;
    });
  counting = false;
  REQUIRE(decoded == 3 * 12012);
  REQUIRE(sink.n > 0);
  REQUIRE(books.liveOrders() > 0);
  REQUIRE(allocations.load() == 0);
}

namespace {
struct CountingSink {
  uint64_t messages = 0, gaps = 0;
  void message(uint64_t, uint64_t, const uint8_t*, uint16_t) noexcept { ++messages; }
  void gap(uint64_t, uint64_t) noexcept { ++gaps; }
  void endOfSession() noexcept {}
  void join(uint64_t) noexcept {}
  void newSession() noexcept {}
  void endOfPacket() noexcept {}
};
struct Requests {
  std::vector<std::pair<uint64_t, uint16_t>>* sent;
  bool request(uint32_t, std::span<const uint8_t> p) noexcept {
    sent->emplace_back(fh::loadBe64(p.data() + 10), fh::loadBe16(p.data() + 18));
    return true;
  }
};
}  // namespace

TEST_CASE("sequencer: loss on both lines, holding, requests and replies allocate nothing", "[sequencer][alloc]") {
  // Packets of 4 five-byte messages; packet k holds messages 1+4k .. 4+4k.
  constexpr uint64_t kPackets = 4000;
  std::vector<std::vector<uint8_t>> packets(kPackets);
  for (uint64_t k = 0; k < kPackets; ++k) {
    packets[k].resize(200);
    fh::mold::PacketBuilder b(packets[k], "SESSION001", 1 + 4 * k);
    for (int m = 0; m < 4; ++m) {
      const uint8_t msg[5] = {'X', 0, 0, 0, uint8_t(m)};
      REQUIRE(b.add(msg));
    }
    packets[k].resize(b.finish().size());
  }
  std::vector<std::pair<uint64_t, uint16_t>> sent;
  sent.reserve(100'000);
  Requests channel{&sent};
  CountingSink sink;
  fh::feed::SequencerConfig config;
  config.heldPackets = 512;
  config.gapTimeoutNs = 1000;
  config.retransmission.servers = 2;
  config.retransmission.timeoutNs = 5000;
  fh::feed::Sequencer<CountingSink, Requests> seq(config, sink, &channel);
  counting = true;
  uint64_t now = 0;
  size_t answered = 0;
  for (uint64_t k = 0; k < kPackets; ++k) {
    now += 200;
    if (k == 0 || k % 7 != 3) seq.packet(0, packets[k], now);
    if (k == 0 || k % 11 != 5) seq.packet(1, packets[k], now + 10);
    seq.idle(now + 50);
    // Every other request is answered (with the packet that holds its first message); the rest time out.
    for (; answered < sent.size(); ++answered)
      if (answered % 2 == 0) seq.retransmission(packets[(sent[answered].first - 1) / 4], now + 100);
  }
  for (int t = 0; t < 200; ++t) {
    now += 10'000;
    seq.idle(now);
    for (; answered < sent.size(); ++answered) seq.retransmission(packets[(sent[answered].first - 1) / 4], now + 1);
  }
  counting = false;
  CHECK(sink.messages == 4 * kPackets);
  CHECK(sink.gaps == 0);
  CHECK(seq.counters().recovered() > 0);
  REQUIRE(allocations.load() == 0);
}
