// Decode and book-building throughput on a BinaryFILE (made by `fhsim
// generate`), as medians of several runs and as ratios against peers measured
// in the same run: a pass that only walks the length prefixes, and the same
// messages framed as MoldUDP64 packets. Prints a table and one JSON line.
//   decode_bench FILE [RUNS [BATCH]]
// BATCH: the feed passes publish book snapshots after every BATCH messages
// instead of once a millisecond (bench/cachesim.sh, under a simulator).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#include "book/book_builder.h"
#include "book/prefetch_window.h"
#include "capture/capture.h"
#include "feed/feed.h"
#include "itch/decoder.h"
#include "mold/moldudp64.h"

namespace {

using Clock = std::chrono::steady_clock;

// Reads the fields a consumer would read, so that decoding is not optimised away.
struct TouchFields {
  uint64_t sum = 0;
  void on(const fh::itch::AddOrder& m) {
    sum += m.orderRef() + m.shares() + m.price() + uint8_t(m.side()) + m.locate();
  }
  void on(const fh::itch::OrderExecuted& m) { sum += m.orderRef() + m.executedShares() + m.matchNumber(); }
  void on(const fh::itch::OrderExecutedWithPrice& m) { sum += m.orderRef() + m.executedShares() + m.executionPrice(); }
  void on(const fh::itch::OrderCancel& m) { sum += m.orderRef() + m.canceledShares(); }
  void on(const fh::itch::OrderDelete& m) { sum += m.orderRef() + m.timestamp(); }
  void on(const fh::itch::OrderReplace& m) { sum += m.originalOrderRef() + m.newOrderRef() + m.shares() + m.price(); }
  void on(const fh::itch::Trade& m) { sum += m.orderRef() + m.shares() + m.price(); }
  void on(const fh::itch::StockDirectory& m) { sum += m.locate() + m.roundLotSize(); }
  void on(const fh::itch::SystemEvent& m) { sum += uint8_t(m.eventCode()); }
};

struct CountRecords {
  uint64_t mboCount = 0, mbp1Count = 0, checksum = 0;
  void mbo(const fh::record::MboMsg& m) noexcept {
    ++mboCount;
    checksum += uint64_t(m.price) ^ m.size;
  }
  void mbp1(const fh::record::Mbp1Msg& m) noexcept {
    ++mbp1Count;
    checksum += m.levels[0].bidSz;
  }
};

// The feed's handler with its output dropped, to tell the cost of the stages
// from the region's: it takes every record and book snapshot the handler
// makes (the snapshot's levels read from the books) and only counts them.
struct DropOutput {
  uint64_t records = 0, books = 0;
  template <class Record>
  void record(const Record& r) noexcept {
    records += r.hd.length;
  }
  void instrument(uint16_t, const char (&)[8], char) noexcept {}
  void book(const fh::feed::BookView& s) noexcept {
    books += s.fields.updates + s.count(0) + s.count(1);
    for (int side = 0; side < 2; ++side)
      s.changedLevels(side, [&](uint32_t, const fh::shm::Level& l) { books += l.shares; });
  }
  void prefetchBook(uint16_t, fh::shm::LevelRange, fh::shm::LevelRange) const noexcept {}
  uint32_t depth() const noexcept { return 10; }  // the region's default
};
static_assert(fh::feed::RecordPublisher<DropOutput>);

// The passes that build books are functions of their own, never inlined, so
// that a profile (bench/cachesim.sh) can tell them apart.

// Every message of the file into `feed`, with endOfBatch() once a
// millisecond, as fhd --replay at full speed publishes book snapshots; or,
// with `batch`, after every `batch` messages (a simulator's clock is slow).
// Each message is received a day after the midnight of its timestamps
// (which the passes put at 0): its delay is recorded in full, as fhd's is.
template <class Feed>
[[gnu::noinline]] void replayFile(std::span<const uint8_t> bytes, Feed& feed, uint64_t batch) {
  constexpr uint64_t kRecvNs = 86'400'000'000'000;
  uint64_t count = 0;
  auto flushed = Clock::now();
  fh::capture::forEachRecord(bytes, [&](uint64_t position, const uint8_t* msg, uint16_t n) {
    feed.message(position, kRecvNs, msg, n);
    if (batch != 0) {
      if (++count % batch == 0) feed.endOfBatch();
    } else if ((++count & 1023) == 0 && Clock::now() - flushed >= std::chrono::milliseconds(1)) {
      feed.endOfBatch();
      flushed = Clock::now();
    }
  });
  feed.endOfBatch();
}

// The books and their records, each message applied as it comes.
[[gnu::noinline]] void buildBooks(std::span<const uint8_t> bytes, fh::book::BookBuilder<CountRecords>& builder) {
  fh::capture::forEachRecord(bytes, [&](uint64_t position, const uint8_t* msg, uint16_t n) {
    builder.setContext(position, 0);
    fh::itch::decode(msg, n, builder);
  });
}

// The same through the prefetch window.
[[gnu::noinline]] void buildBooksWindowed(std::span<const uint8_t> bytes,
                                          fh::book::BookBuilder<CountRecords>& builder) {
  fh::book::PrefetchWindow window(builder);
  const auto process = [&](const auto& e) {
    builder.setContext(e.position, 0);
    fh::itch::decode(e.msg, e.length, builder);
  };
  fh::capture::forEachRecord(bytes, [&](uint64_t position, const uint8_t* msg, uint16_t n) {
    window.push({position, 0, msg, n}, process);
  });
  window.drain(process);
}

// ItchHandler has flush() where ItchFeed has endOfBatch().
struct HandlerAsFeed {
  fh::feed::ItchHandler<DropOutput>& handler;
  void message(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    handler.message(sequence, recvNs, msg, length);
  }
  void endOfBatch() noexcept { handler.flush(); }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <class F>
double timed(F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

long peakRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: decode_bench FILE [RUNS [BATCH]]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const uint64_t batch = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
  const fh::capture::MappedFile file(argv[1]);
  const auto bytes = file.bytes();
  if (fh::capture::detectFormat(bytes) != fh::capture::Format::BinaryFile) {
    std::fprintf(stderr, "decode_bench: %s is not a BinaryFILE\n", argv[1]);
    return 2;
  }

  uint64_t messages = 0;
  const auto framing = fh::capture::forEachRecord(bytes, [&](uint64_t, const uint8_t*, uint16_t) { ++messages; });
  if (framing.truncated) {
    std::fprintf(stderr, "decode_bench: %s is truncated at byte %llu\n", argv[1],
                 static_cast<unsigned long long>(framing.truncatedAt));
    return 2;
  }

  // The same messages framed as MoldUDP64 packets of at most 1400 bytes.
  std::vector<uint8_t> packets;
  std::vector<std::pair<size_t, size_t>> packetSpans;
  {
    std::vector<uint8_t> buf(1400);
    uint64_t seq = 1;
    fh::mold::PacketBuilder b(buf, "BENCH", seq);
    auto flush = [&] {
      const auto p = b.finish();
      packetSpans.emplace_back(packets.size(), p.size());
      packets.insert(packets.end(), p.begin(), p.end());
      seq += b.count();
      b = fh::mold::PacketBuilder(buf, "BENCH", seq);
    };
    fh::capture::forEachRecord(bytes, [&](uint64_t, const uint8_t* msg, uint16_t n) {
      if (!b.add({msg, n})) {
        flush();
        b.add({msg, n});
      }
    });
    if (b.count() > 0) flush();
  }

  std::vector<double> tFraming, tDecode, tMoldDecode, tBook, tBookPlain, tFeed, tHandler;
  uint64_t sink = 0;
  fh::itch::DecodeCounters lastCounters;
  uint64_t liveOrders = 0, liveLevels = 0, booksWithOrders = 0, records = 0, unknownRefs = 0;
  size_t storeBytes = 0;
  fh::book::BookConfig config;  // the defaults: 8M orders, 8M level slots, 65536 instruments
  for (int r = 0; r < runs; ++r) {
    tFraming.push_back(timed([&] {
      uint64_t lengths = 0;
      fh::capture::forEachRecord(bytes, [&](uint64_t, const uint8_t* msg, uint16_t n) { lengths += n + msg[0]; });
      sink += lengths;
    }));
    tDecode.push_back(timed([&] {
      TouchFields h;
      fh::itch::DecodeCounters c;
      fh::capture::forEachRecord(
          bytes, [&](uint64_t, const uint8_t* msg, uint16_t n) { c.count(fh::itch::decode(msg, n, h), msg[0]); });
      sink += h.sum;
      lastCounters = c;
    }));
    tMoldDecode.push_back(timed([&] {
      TouchFields h;
      uint64_t ok = 0;
      for (const auto& [offset, size] : packetSpans)
        fh::mold::forEachMessage({packets.data() + offset, size}, [&](uint64_t, const uint8_t* msg, uint16_t n) {
          ok += fh::itch::decode(msg, n, h) == fh::itch::DecodeStatus::Ok;
        });
      sink += h.sum + ok;
    }));
    {  // the peer: the same work without the prefetch window
      fh::book::OrderBooks books(config);
      CountRecords out;
      fh::book::BookBuilder<CountRecords> builder(books, out, 0);
      tBookPlain.push_back(timed([&] { buildBooks(bytes, builder); }));
      sink += out.checksum;
    }
    {  // fhd's whole feed: the same books, tick records and book snapshots into a region
      fh::shm::RegionConfig region;
      region.name = "fh-decode-bench-" + std::to_string(::getpid());
      region.maxInstruments = config.maxInstruments;
      region.counters = fh::feed::feedCounterNames();
      region.histograms = fh::feed::feedHistogramNames();
      fh::shm::RegionWriter writer(region);
      fh::book::OrderBooks books(config);
      fh::feed::ItchFeed feed(books, writer, 0, {});
      tFeed.push_back(timed([&] { replayFile(bytes, feed, batch); }));
      sink += writer.recordsPublished();
      fh::shm::removeRegionFiles(region.directory, region.name);  // the name is this process's own
    }
    {  // the same stages with their output dropped: what the region costs is the difference
      fh::book::OrderBooks books(config);
      DropOutput out;
      fh::feed::ItchHandler<DropOutput> handler(books, out, 0);
      HandlerAsFeed feed{handler};
      tHandler.push_back(timed([&] { replayFile(bytes, feed, batch); }));
      sink += out.records + out.books;
    }
    fh::book::OrderBooks books(config);  // built and touched before the clock starts
    CountRecords out;
    fh::book::BookBuilder<CountRecords> builder(books, out, 0);
    tBook.push_back(timed([&] { buildBooksWindowed(bytes, builder); }));
    sink += out.checksum;
    liveOrders = books.liveOrders();
    liveLevels = books.liveLevels();
    records = out.mboCount + out.mbp1Count;
    unknownRefs = books.counters().unknownOrder;
    storeBytes = books.reservedBytes();
    booksWithOrders = 0;
    for (uint32_t l = 1; l < books.maxInstruments(); ++l)
      booksWithOrders += books.depth(static_cast<uint16_t>(l), fh::book::Side::Bid) +
                             books.depth(static_cast<uint16_t>(l), fh::book::Side::Ask) >
                         0;
  }

  const auto rate = [&](const std::vector<double>& t) { return double(messages) / median(t); };
  const auto nsPer = [&](const std::vector<double>& t) { return median(t) * 1e9 / double(messages); };
  std::printf("file            %s\n", argv[1]);
  std::printf("messages        %llu (%llu decoded, %llu unknown type, %llu wrong length)\n",
              (unsigned long long)messages, (unsigned long long)lastCounters.messages,
              (unsigned long long)lastCounters.unknownType, (unsigned long long)lastCounters.badLength);
  std::printf("runs            %d (medians below)\n", runs);
  std::printf("%-28s %14s %10s %12s\n", "pass", "messages/s", "ns/msg", "vs framing");
  const auto row = [&](const char* name, const std::vector<double>& t) {
    std::printf("%-28s %14.0f %10.2f %12.2f\n", name, rate(t), nsPer(t), median(t) / median(tFraming));
  };
  row("framing only (peer)", tFraming);
  row("decode, BinaryFILE", tDecode);
  row("decode, MoldUDP64 packets", tMoldDecode);
  row("decode + book + records", tBookPlain);
  row("  same, prefetch window", tBook);
  row("fhd's feed, output dropped", tHandler);
  row("fhd's feed into a region", tFeed);
  std::printf(
      "book            %llu live orders, %llu levels, %llu instruments with orders, %llu records, "
      "%llu unknown references\n",
      (unsigned long long)liveOrders, (unsigned long long)liveLevels, (unsigned long long)booksWithOrders,
      (unsigned long long)records, (unsigned long long)unknownRefs);
  std::printf("peak RSS        %ld MiB (file mapping %zu MiB, packet copy %zu MiB, book stores %zu MiB)\n",
              peakRssMiB(), bytes.size() >> 20, packets.size() >> 20, storeBytes >> 20);
  std::printf(
      "{\"messages\":%llu,\"decode_mps\":%.0f,\"decode_mold_mps\":%.0f,\"book_mps\":%.0f,"
      "\"decode_ns\":%.2f,\"book_ns\":%.2f,\"feed_mps\":%.0f,\"feed_ns\":%.2f,\"handler_ns\":%.2f,\"book_plain_mps\":%."
      "0f,\"book_vs_"
      "decode\":%.2f,\"live_orders\":%llu,"
      "\"instruments\":%llu,\"peak_rss_mib\":%ld,\"checksum\":%llu}\n",
      (unsigned long long)messages, rate(tDecode), rate(tMoldDecode), rate(tBook), nsPer(tDecode), nsPer(tBook),
      rate(tFeed), nsPer(tFeed), nsPer(tHandler), rate(tBookPlain), median(tBook) / median(tDecode),
      (unsigned long long)liveOrders, (unsigned long long)booksWithOrders, peakRssMiB(),
      (unsigned long long)(sink & 0xFFFF));
  return 0;
}
