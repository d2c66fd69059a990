// The consumer library's C ABI (shm/fh_consumer.h) over a region made by
// RegionWriter in a temporary directory: attaching and its error statuses,
// instruments, books, ticks of every record type byte for byte, exact lap
// counts, re-attachment to a new writer, counters, and that no C++ exception
// crosses the ABI.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "shm/consumer.h"
#include "shm/fh_consumer.h"
#include "shm/histogram.h"
#include "shm/writer.h"
#include "shm_fixture.h"

namespace {

namespace rec = fh::record;
using fh::shm::RegionConfig;
using fh::shm::RegionWriter;
using fh::test::TempDir;

using fh::test::smallRegion;

// Owns a handle; opened with the region's directory and a refresh on every idle poll.
struct Handle {
  fh_consumer* c = nullptr;
  ~Handle() { fh_consumer_close(c); }
};

fh_status open(const TempDir& dir, const std::string& name, Handle& h, uint32_t start = FH_START_LIVE) {
  fh_consumer_options o;
  fh_consumer_options_init(&o);
  const std::string directory = dir.str();
  o.directory = directory.c_str();
  o.start = start;
  o.refresh_every_ns = 0;
  return fh_consumer_open(name.c_str(), &o, &h.c);
}

// Records whose every field follows from `i`.
rec::MboMsg mboFor(uint64_t i) {
  rec::MboMsg m{};
  m.hd = {sizeof(rec::MboMsg) / 4, rec::RType::Mbo, 2, static_cast<uint32_t>(i % 64), i * 3};
  m.orderId = i;
  m.price = static_cast<int64_t>(i * 0x9E3779B97F4A7C15ull >> 1);
  m.size = static_cast<uint32_t>(i * 7);
  m.flags = rec::flags::kLast;
  m.channelId = 1;
  m.action = rec::Action::Add;
  m.side = i % 2 ? rec::Side::Bid : rec::Side::Ask;
  m.tsRecv = ~i;
  m.tsInDelta = -static_cast<int32_t>(i % 1000);
  m.sequence = static_cast<uint32_t>(i);
  return m;
}

rec::Mbp1Msg mbp1For(uint64_t i) {
  rec::Mbp1Msg m{};
  m.hd = {sizeof(rec::Mbp1Msg) / 4, rec::RType::Mbp1, 2, static_cast<uint32_t>(i % 64), i * 5};
  m.price = 1'895'000'000'00 + static_cast<int64_t>(i);
  m.size = 100;
  m.action = rec::Action::Trade;
  m.side = rec::Side::Ask;
  m.flags = rec::flags::kLast | rec::flags::kTob;
  m.depth = 0;
  m.tsRecv = i + 11;
  m.tsInDelta = 17;
  m.sequence = static_cast<uint32_t>(i);
  m.levels[0] = {100 + static_cast<int64_t>(i), 101 + static_cast<int64_t>(i), 3, 4, 5, 6};
  return m;
}

rec::StatusMsg statusFor(uint64_t i) {
  rec::StatusMsg m{};
  m.hd = {sizeof(rec::StatusMsg) / 4, rec::RType::Status, 2, static_cast<uint32_t>(i % 64), i * 7};
  m.tsRecv = i + 13;
  m.action = rec::StatusAction::Halt;
  m.reason = rec::StatusReason::BookStale;
  m.tradingEvent = 5;
  m.isTrading = 'N';
  m.isQuoting = 'Y';
  m.isShortSellRestricted = '~';
  return m;
}

// The record a writer publishes as index i: MBO, MBP-1 and status in turn.
std::vector<uint8_t> recordBytes(uint64_t i) {
  const auto bytesOf = [](const auto& m) {
    std::vector<uint8_t> b(sizeof m);
    std::memcpy(b.data(), &m, sizeof m);
    return b;
  };
  switch (i % 3) {
    case 0:
      return bytesOf(mboFor(i));
    case 1:
      return bytesOf(mbp1For(i));
    default:
      return bytesOf(statusFor(i));
  }
}

void publish(RegionWriter& w, uint64_t i) {
  const std::vector<uint8_t> b = recordBytes(i);
  w.publish(b.data(), static_cast<uint32_t>(b.size()));
}

// What a poll callback saw.
struct Seen {
  uint64_t index;
  uint8_t rtype;
  std::vector<uint8_t> bytes;
  bool mbo, mbp1, status;
};

void collect(const fh_tick* t, void* user) {
  auto* seen = static_cast<std::vector<Seen>*>(user);
  const auto* p = static_cast<const uint8_t*>(t->record);
  seen->push_back({t->index, t->rtype, std::vector<uint8_t>(p, p + t->length), t->mbo != nullptr, t->mbp1 != nullptr,
                   t->status != nullptr});
  // The typed views are the same bytes under the C mirrors.
  if (t->mbo != nullptr) {
    const rec::MboMsg want = mboFor(t->index);
    CHECK(static_cast<const void*>(t->mbo) == t->record);
    CHECK(t->mbo->hd.rtype == FH_RTYPE_MBO);
    CHECK(t->mbo->hd.instrument_id == want.hd.instrumentId);
    CHECK(t->mbo->hd.ts_event == want.hd.tsEvent);
    CHECK(t->mbo->order_id == want.orderId);
    CHECK(t->mbo->price == want.price);
    CHECK(t->mbo->size == want.size);
    CHECK(t->mbo->flags == FH_FLAG_LAST);
    CHECK(t->mbo->action == 'A');
    CHECK(t->mbo->side == (t->index % 2 ? 'B' : 'A'));
    CHECK(t->mbo->ts_recv == want.tsRecv);
    CHECK(t->mbo->ts_in_delta == want.tsInDelta);
    CHECK(t->mbo->sequence == want.sequence);
  }
  if (t->mbp1 != nullptr) {
    const rec::Mbp1Msg want = mbp1For(t->index);
    CHECK(t->mbp1->hd.rtype == FH_RTYPE_MBP1);
    CHECK(t->mbp1->price == want.price);
    CHECK(t->mbp1->action == 'T');
    CHECK(t->mbp1->side == 'A');
    CHECK(t->mbp1->flags == (FH_FLAG_LAST | FH_FLAG_TOB));
    CHECK(t->mbp1->ts_recv == want.tsRecv);
    CHECK(t->mbp1->levels[0].bid_px == want.levels[0].bidPx);
    CHECK(t->mbp1->levels[0].ask_px == want.levels[0].askPx);
    CHECK(t->mbp1->levels[0].ask_ct == 6);
  }
  if (t->status != nullptr) {
    CHECK(t->status->hd.rtype == FH_RTYPE_STATUS);
    CHECK(t->status->ts_recv == t->index + 13);
    CHECK(t->status->action == FH_STATUS_ACTION_HALT);
    CHECK(t->status->reason == FH_STATUS_REASON_BOOK_STALE);
    CHECK(t->status->trading_event == 5);
    CHECK(t->status->is_trading == 'N');
    CHECK(t->status->is_quoting == 'Y');
    CHECK(t->status->is_short_sell_restricted == '~');
  }
}

fh_poll_result pollAll(fh_consumer* c, std::vector<Seen>& seen) {
  fh_poll_result total{};
  for (;;) {
    fh_poll_result r;
    REQUIRE(fh_consumer_poll(c, collect, &seen, 1000, &r) == FH_OK);
    total.records += r.records;
    total.lost += r.lost;
    total.reattached |= r.reattached;
    if (r.records == 0) return total;
  }
}

void checkExact(const Seen& s) {
  const std::vector<uint8_t> want = recordBytes(s.index);
  CHECK(s.bytes == want);
  CHECK(s.rtype == want[1]);
  CHECK(s.mbo == (s.index % 3 == 0));
  CHECK(s.mbp1 == (s.index % 3 == 1));
  CHECK(s.status == (s.index % 3 == 2));
}

std::string lastError() { return fh_last_error(); }

}  // namespace

TEST_CASE("shm C ABI: open, region facts, instruments and counters", "[shm][c-abi]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  REQUIRE(h.c != nullptr);
  CHECK(std::string(fh_consumer_path(h.c)) == dir.str() + "/t");
  CHECK(fh_consumer_generation(h.c) == writer.header().generation);
  CHECK(fh_consumer_depth(h.c) == 4);
  CHECK(fh_consumer_max_instruments(h.c) == 64);
  CHECK(fh_consumer_writer_status(h.c) == FH_WRITER_RUNNING);

  fh_consumer_options defaults;
  fh_consumer_options_init(&defaults);
  CHECK(defaults.directory == nullptr);
  CHECK(defaults.start == FH_START_LIVE);
  CHECK(defaults.stale_after_ns == 2'000'000'000u);
  CHECK(defaults.refresh_every_ns == 100'000'000u);

  const char aapl[8] = {'A', 'A', 'P', 'L', ' ', ' ', ' ', ' '};
  const char full[8] = {'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'};
  writer.setInstrument(13, aapl, 'T');
  writer.setInstrument(63, full, 'H');
  uint16_t locate = 0;
  REQUIRE(fh_consumer_find(h.c, "AAPL", &locate) == FH_OK);
  CHECK(locate == 13);
  REQUIRE(fh_consumer_find(h.c, "ABCDEFGH", &locate) == FH_OK);
  CHECK(locate == 63);
  CHECK(fh_consumer_find(h.c, "AAP", &locate) == FH_ERR_NO_INSTRUMENT);
  CHECK_FALSE(lastError().empty());
  fh_instrument info;
  REQUIRE(fh_consumer_instrument(h.c, 13, &info) == FH_OK);
  CHECK(info.locate == 13);
  CHECK(std::string(info.symbol) == "AAPL");
  CHECK(info.trading_state == 'T');
  REQUIRE(fh_consumer_instrument(h.c, 63, &info) == FH_OK);
  CHECK(std::string(info.symbol) == "ABCDEFGH");
  CHECK(info.trading_state == 'H');
  REQUIRE(fh_consumer_instrument(h.c, 5, &info) == FH_OK);  // a slot not yet known
  CHECK(std::string(info.symbol).empty());
  CHECK(info.trading_state == ' ');
  CHECK(fh_consumer_instrument(h.c, 64, &info) == FH_ERR_NO_INSTRUMENT);

  CHECK(fh_consumer_counter_count(h.c) == 2);
  char name[FH_COUNTER_NAME_MAX];
  REQUIRE(fh_consumer_counter_name(h.c, 1, name, sizeof name) == FH_OK);
  CHECK(std::string(name) == "beta");
  char tiny[4];
  CHECK(fh_consumer_counter_name(h.c, 1, tiny, sizeof tiny) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_counter_name(h.c, 2, name, sizeof name) == FH_ERR_NO_COUNTER);
  writer.add(1, 5);
  writer.add(1, 2);
  uint64_t value = 0;
  REQUIRE(fh_consumer_counter_value(h.c, 1, &value) == FH_OK);
  CHECK(value == 7);
  CHECK(fh_consumer_counter_value(h.c, 2, &value) == FH_ERR_NO_COUNTER);
  uint32_t index = 9;
  REQUIRE(fh_consumer_find_counter(h.c, "alpha", &index) == FH_OK);
  CHECK(index == 0);
  CHECK(fh_consumer_find_counter(h.c, "gamma", &index) == FH_ERR_NO_COUNTER);
}

TEST_CASE("shm C ABI: latency histograms", "[shm][c-abi][histogram]") {
  TempDir dir;
  fh::shm::RegionConfig config = smallRegion(dir);
  config.histograms = {"latency.a_ns", "latency.b_ns"};
  RegionWriter writer(config);
  fh::shm::Histogram recorded;
  for (int64_t v : {5, 40, 40, 1000, 123456, -3}) recorded.record(v);
  writer.publishHistogram(1, recorded);
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  CHECK(fh_consumer_histogram_count(h.c) == 2);
  char name[FH_HISTOGRAM_NAME_MAX];
  REQUIRE(fh_consumer_histogram_name(h.c, 1, name, sizeof name) == FH_OK);
  CHECK(std::string(name) == "latency.b_ns");
  char tiny[4];
  CHECK(fh_consumer_histogram_name(h.c, 1, tiny, sizeof tiny) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_histogram_name(h.c, 2, name, sizeof name) == FH_ERR_NO_COUNTER);
  auto copy = std::make_unique<fh_histogram>();
  CHECK(fh_consumer_copy_histogram(h.c, 2, copy.get()) == FH_ERR_NO_COUNTER);
  CHECK(fh_consumer_copy_histogram(h.c, 0, nullptr) == FH_ERR_ARGUMENT);
  REQUIRE(fh_consumer_copy_histogram(h.c, 1, copy.get()) == FH_OK);
  CHECK(copy->count == 6);
  CHECK(copy->negative == 1);
  CHECK(copy->min == 5);
  CHECK(copy->max == 123456);
  CHECK(copy->sum == 124538.0);
  CHECK(copy->buckets[5] == 1);
  CHECK(copy->buckets[fh::shm::histogramBucket(40)] == 2);
  CHECK(fh_histogram_quantile(copy.get(), 0.5) == fh_histogram_bucket_high(fh::shm::histogramBucket(40)));
  CHECK(fh_histogram_quantile(copy.get(), 1.0) == 123456);
  CHECK(fh_histogram_bucket_low(32) == 32);
  CHECK(fh_histogram_bucket_high(32) == 33);
  CHECK(fh_histogram_bucket_high(FH_HISTOGRAM_BUCKETS - 1) == UINT64_MAX);
  CHECK(fh_histogram_bucket_low(FH_HISTOGRAM_BUCKETS) == 0);
  REQUIRE(fh_consumer_copy_histogram(h.c, 0, copy.get()) == FH_OK);
  CHECK(copy->count == 0);
  CHECK(fh_histogram_quantile(copy.get(), 0.99) == 0);
}

TEST_CASE("shm C ABI: NULL and out-of-range arguments are statuses", "[shm][c-abi]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  fh_consumer* out = reinterpret_cast<fh_consumer*>(&h);
  CHECK(fh_consumer_open(nullptr, nullptr, &out) == FH_ERR_ARGUMENT);
  CHECK(out == nullptr);
  CHECK(fh_consumer_open("t", nullptr, nullptr) == FH_ERR_ARGUMENT);
  fh_consumer_options bad;
  fh_consumer_options_init(&bad);
  bad.start = 7;
  CHECK(fh_consumer_open("t", &bad, &out) == FH_ERR_ARGUMENT);
  CHECK(lastError().find("start") != std::string::npos);

  uint16_t locate = 0;
  CHECK(fh_consumer_find(nullptr, "AAPL", &locate) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_find(h.c, nullptr, &locate) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_instrument(h.c, 1, nullptr) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_copy_book(h.c, 1, nullptr) == FH_ERR_ARGUMENT);
  fh_poll_result r{9, 9, 9};
  CHECK(fh_consumer_poll(h.c, nullptr, nullptr, 10, &r) == FH_ERR_ARGUMENT);
  CHECK((r.records == 0 && r.lost == 0 && r.reattached == 0));
  CHECK(fh_consumer_poll(h.c, collect, nullptr, 0, &r) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_poll(nullptr, collect, nullptr, 10, &r) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_counter_value(h.c, 0, nullptr) == FH_ERR_ARGUMENT);
  CHECK(fh_consumer_find_counter(h.c, nullptr, nullptr) == FH_ERR_ARGUMENT);
  int reattached = 5;
  CHECK(fh_consumer_refresh(nullptr, &reattached) == FH_ERR_ARGUMENT);
  CHECK(reattached == 0);
  CHECK(fh_consumer_counter_count(nullptr) == 0);
  CHECK(fh_consumer_generation(nullptr) == 0);
  fh_consumer_close(nullptr);

  CHECK(std::string(fh_status_name(FH_ERR_WRITER_STUCK)) == "FH_ERR_WRITER_STUCK");
  CHECK(std::string(fh_status_name(static_cast<fh_status>(15))) == "FH_ERR_UNKNOWN");
}

TEST_CASE("shm C ABI: attach errors are statuses with a message naming the file", "[shm][c-abi]") {
  TempDir dir;
  Handle h;
  const auto statusOf = [&](const std::string& name) {
    const fh_status s = open(dir, name, h);
    CHECK(h.c == nullptr);
    if (s != FH_OK) CHECK(lastError().find(dir.str() + "/" + name) != std::string::npos);
    return s;
  };
  CHECK(statusOf("missing") == FH_ERR_NOT_FOUND);
  std::ofstream(dir.path() / "text") << std::string(4096, 'x');
  CHECK(statusOf("text") == FH_ERR_NOT_A_REGION);
  std::ofstream(dir.path() / "tiny") << "fh";
  CHECK(statusOf("tiny") == FH_ERR_NOT_A_REGION);

  // A region with its layout major version patched to the next one, then to 0
  // (a writer that died while making it).
  { RegionWriter writer(smallRegion(dir, "future")); }
  const auto patchVersion = [&](uint32_t version) {
    const int fd = ::open((dir.path() / "future").c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, &version, sizeof version, offsetof(fh::shm::RegionHeader, layoutVersion)) == 4);
    ::close(fd);
  };
  patchVersion(uint32_t{fh::shm::kLayoutMajor + 1} << 16);
  CHECK(statusOf("future") == FH_ERR_VERSION);
  CHECK(lastError().find("layout version 2.0") != std::string::npos);
  patchVersion(0);
  CHECK(statusOf("future") == FH_ERR_INCOMPLETE);
  patchVersion(fh::shm::kLayoutVersion);
  REQUIRE(open(dir, "future", h) == FH_OK);  // the same file, whole again
  fh_consumer_close(h.c);
  h.c = nullptr;

  if (::geteuid() != 0) {  // root reads any file
    REQUIRE(::chmod((dir.path() / "future").c_str(), 0) == 0);
    CHECK(statusOf("future") == FH_ERR_PERMISSION);
  }
}

TEST_CASE("shm C ABI: books are the writer's, level for level", "[shm][c-abi]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  const fh::shm::Level bids[] = {
      {189'5000'00000, 300, 2, 0}, {189'4900'00000, 100, 1, 0}, {98, 30, 3, 0}, {97, 1, 1, 0}, {96, 2, 1, 0}};
  const fh::shm::Level asks[] = {{189'5100'00000, 200, 1, 0}};
  fh::shm::BookFields f{};
  f.lastSequence = 42;
  f.tsEvent = 1'700'000'000'000'000'000;
  f.tsRecv = 1'700'000'000'000'000'123;
  f.updates = 9;
  f.status = fh::shm::BookStatus::Stale;
  f.tradingState = 'T';
  writer.publishBook(7, f, bids, 5, asks, 1);

  auto book = std::make_unique<fh_book>();
  REQUIRE(fh_consumer_copy_book(h.c, 7, book.get()) == FH_OK);
  CHECK(book->locate == 7);
  CHECK(book->instrument_id == 7);
  CHECK(book->bid_levels == 4);  // depth 4: the fifth is cut
  CHECK(book->ask_levels == 1);
  CHECK(book->status == FH_BOOK_STALE);
  CHECK(book->trading_state == 'T');
  CHECK(book->last_sequence == 42);
  CHECK(book->ts_event == f.tsEvent);
  CHECK(book->ts_recv == f.tsRecv);
  CHECK(book->updates == 9);
  for (int i = 0; i < 4; ++i) {
    CHECK(book->bids[i].price == bids[i].price);
    CHECK(book->bids[i].shares == bids[i].shares);
    CHECK(book->bids[i].orders == bids[i].orders);
  }
  CHECK(book->asks[0].price == asks[0].price);
  CHECK(book->asks[0].shares == 200);
  CHECK(book->asks[1].price == 0);  // beyond the published levels: zero

  // The same as the C++ API's copy.
  fh::shm::Consumer cpp("t", [&] {
    fh::shm::Consumer::Options o;
    o.directory = dir.str();
    return o;
  }());
  auto snap = std::make_unique<fh::shm::BookSnapshot>();
  REQUIRE(cpp.copyBook(7, *snap) == fh::shm::CopyStatus::Ok);
  CHECK(std::memcmp(book->bids, snap->bids, 4 * sizeof(fh_level)) == 0);
  CHECK(std::memcmp(book->asks, snap->asks, 1 * sizeof(fh_level)) == 0);

  // Fewer levels now: the old ones do not linger in the copy.
  writer.publishBook(7, f, bids, 1, asks, 0);
  REQUIRE(fh_consumer_copy_book(h.c, 7, book.get()) == FH_OK);
  CHECK(book->bid_levels == 1);
  CHECK(book->ask_levels == 0);
  CHECK(book->bids[1].price == 0);
  CHECK(book->asks[0].price == 0);

  CHECK(fh_consumer_copy_book(h.c, 64, book.get()) == FH_ERR_NO_INSTRUMENT);

  // A writer that died inside an update leaves the seq odd: the copy gives up
  // and leaves the caller's struct as it was.
  auto* seq = reinterpret_cast<std::atomic<uint64_t>*>(
      const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(&writer.header())) + writer.header().booksOffset +
      7 * writer.header().bookBytes);
  seq->fetch_add(1);
  book->last_sequence = 12345;
  CHECK(fh_consumer_copy_book(h.c, 7, book.get()) == FH_ERR_WRITER_STUCK);
  CHECK(book->last_sequence == 12345);
  CHECK(lastError().find("lock") != std::string::npos);
}

TEST_CASE("shm C ABI: ticks arrive in order, byte for byte, under their C types", "[shm][c-abi]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Handle live;
  REQUIRE(open(dir, "t", live) == FH_OK);
  for (uint64_t i = 0; i < 30; ++i) publish(writer, i);

  std::vector<Seen> seen;
  fh_poll_result r;
  REQUIRE(fh_consumer_poll(live.c, collect, &seen, 4, &r) == FH_OK);  // at most max_records
  CHECK(r.records == 4);
  CHECK(r.lost == 0);
  CHECK(r.reattached == 0);
  const fh_poll_result rest = pollAll(live.c, seen);
  CHECK(rest.records == 26);
  CHECK(rest.lost == 0);
  REQUIRE(seen.size() == 30);
  for (uint64_t i = 0; i < 30; ++i) {
    CHECK(seen[i].index == i);
    checkExact(seen[i]);
  }
  CHECK(seen[0].bytes.size() == sizeof(fh_mbo_msg));
  CHECK(seen[1].bytes.size() == sizeof(fh_mbp1_msg));
  CHECK(seen[2].bytes.size() == sizeof(fh_status_msg));

  // A consumer from the oldest record sees the same 30 from the start; a live
  // one opened now sees only what comes next.
  Handle oldest, later;
  REQUIRE(open(dir, "t", oldest, FH_START_OLDEST) == FH_OK);
  REQUIRE(open(dir, "t", later) == FH_OK);
  std::vector<Seen> fromOldest, fromLater;
  CHECK(pollAll(oldest.c, fromOldest).records == 30);
  publish(writer, 30);
  CHECK(pollAll(later.c, fromLater).records == 1);
  REQUIRE(fromLater.size() == 1);
  CHECK(fromLater[0].index == 30);
  checkExact(fromLater[0]);
  for (size_t i = 0; i < fromOldest.size(); ++i) CHECK(fromOldest[i].bytes == seen[i].bytes);
}

TEST_CASE("shm C ABI: a lapped reader is told exactly how many records it skipped", "[shm][c-abi]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  fh::shm::Consumer::Options o;
  o.directory = dir.str();
  fh::shm::Consumer cpp("t", o);  // the C++ API, for comparison

  std::vector<Seen> seen;
  for (uint64_t i = 0; i < 100; ++i) publish(writer, i);
  CHECK(pollAll(h.c, seen).lost == 0);
  REQUIRE(seen.size() == 100);
  CHECK(cpp.poll([](const fh::shm::Tick&) {}, 1000).records == 100);

  // Far more than the 64 KiB ring holds (three laps of the largest frames)
  // while the readers sleep. The reader resumes at the newest record; what it
  // lost is every record between the last it saw (99) and that one.
  const uint64_t published = 100 + 3 * (64 << 10) / (16 + sizeof(fh_mbo_msg));
  for (uint64_t i = 100; i < published; ++i) publish(writer, i);
  seen.clear();
  fh_poll_result r;
  REQUIRE(fh_consumer_poll(h.c, collect, &seen, 1000, &r) == FH_OK);
  CHECK(r.records == 1);
  CHECK(r.lost == published - 1 - 100);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].index == published - 1);
  checkExact(seen[0]);
  const fh::shm::PollResult cppResult = cpp.poll([](const fh::shm::Tick&) {}, 1000);
  CHECK(cppResult.lost == r.lost);
  CHECK(cppResult.records == r.records);

  // At the edge: the writer may fill the whole ring ahead of a reader that
  // has read everything, and the reader still gets every record; one record
  // more overwrites the reader's next one, and it skips to the newest.
  const uint64_t capacity = 64 << 10;
  const auto intentOf = [&](uint64_t i) {  // the writer's ringTail after publishing record i
    const uint64_t tail = writer.header().ringTail.load();
    const uint64_t frame = (16 + recordBytes(i).size() + 7) / 8 * 8;
    const uint64_t room = capacity - tail % capacity;
    return tail + (room < frame ? room : 0) + frame;
  };
  uint64_t next = published;
  for (const uint64_t cursor = writer.header().ringTail.load(); intentOf(next) <= cursor + capacity;)
    publish(writer, next++);
  const uint64_t whole = next - published;
  seen.clear();
  const fh_poll_result full = pollAll(h.c, seen);
  CHECK(full.records == whole);
  CHECK(full.lost == 0);
  REQUIRE(seen.size() == whole);
  for (uint64_t i = 0; i < whole; ++i) CHECK(seen[i].index == published + i);

  const uint64_t at = next;
  for (const uint64_t cursor = writer.header().ringTail.load(); intentOf(next) <= cursor + capacity;)
    publish(writer, next++);
  publish(writer, next++);
  seen.clear();
  REQUIRE(fh_consumer_poll(h.c, collect, &seen, 1000, &r) == FH_OK);
  CHECK(r.records == 1);
  CHECK(r.lost == next - 1 - at);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].index == next - 1);
  checkExact(seen[0]);

  // Then it keeps up again with nothing lost.
  publish(writer, next);
  seen.clear();
  const fh_poll_result caughtUp = pollAll(h.c, seen);
  CHECK(caughtUp.records == 1);
  CHECK(caughtUp.lost == 0);
}

TEST_CASE("shm C ABI: a consumer re-attaches when a new writer replaces the region", "[shm][c-abi]") {
  TempDir dir;
  auto first = std::make_unique<RegionWriter>(smallRegion(dir));
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  const uint64_t firstGeneration = fh_consumer_generation(h.c);
  publish(*first, 0);
  std::vector<Seen> seen;
  CHECK(pollAll(h.c, seen).records == 1);

  first.reset();  // a clean stop: the region stays, marked Stopped
  CHECK(fh_consumer_writer_status(h.c) == FH_WRITER_STOPPED);
  auto second = std::make_unique<RegionWriter>(smallRegion(dir));
  REQUIRE(second->header().generation != firstGeneration);
  const char msft[8] = {'M', 'S', 'F', 'T', ' ', ' ', ' ', ' '};
  second->setInstrument(9, msft, 'T');
  publish(*second, 0);

  // The next idle poll finds the new file; from then on the new ring is read.
  fh_poll_result r;
  seen.clear();
  REQUIRE(fh_consumer_poll(h.c, collect, &seen, 100, &r) == FH_OK);
  CHECK(r.reattached == 1);
  CHECK(r.records == 0);
  CHECK(fh_consumer_generation(h.c) == second->header().generation);
  CHECK(fh_consumer_writer_status(h.c) == FH_WRITER_RUNNING);
  uint16_t locate = 0;
  CHECK(fh_consumer_find(h.c, "MSFT", &locate) == FH_OK);
  CHECK(locate == 9);
  publish(*second, 1);
  REQUIRE(fh_consumer_poll(h.c, collect, &seen, 100, &r) == FH_OK);
  CHECK(r.reattached == 0);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].index == 1);  // live: the record after re-attaching
  checkExact(seen[0]);

  int reattached = 7;
  REQUIRE(fh_consumer_refresh(h.c, &reattached) == FH_OK);
  CHECK(reattached == 0);  // nothing new
  second.reset();          // one writer a name at a time
  RegionWriter third(smallRegion(dir));
  REQUIRE(fh_consumer_refresh(h.c, &reattached) == FH_OK);
  CHECK(reattached == 1);
  CHECK(fh_consumer_generation(h.c) == third.header().generation);
}

TEST_CASE("shm C ABI: no exception crosses it, the last error is per thread", "[shm][c-abi]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Handle h;
  REQUIRE(open(dir, "t", h) == FH_OK);
  publish(writer, 0);
  publish(writer, 1);
  // A C++ callback that throws: the poll returns a status, not the exception.
  const fh_tick_fn throwing = [](const fh_tick*, void*) { throw std::runtime_error("thrown by the callback"); };
  fh_poll_result r;
  CHECK(fh_consumer_poll(h.c, throwing, nullptr, 10, &r) == FH_ERR_SYSTEM);
  CHECK(lastError() == "thrown by the callback");
  CHECK(r.records == 0);

  std::string other = "unset";
  std::thread([&] {
    other = fh_last_error();
    Handle missing;
    CHECK(open(dir, "missing", missing) == FH_ERR_NOT_FOUND);
  }).join();
  CHECK(other.empty());
  CHECK(lastError() == "thrown by the callback");
}
