#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "book/book_builder.h"
#include "book/prefetch_window.h"
#include "commands.h"
#include "feed/file_source.h"
#include "feed/sequencer.h"
#include "itch/decoder.h"
#include "print.h"
#include "record/record.h"
#include "shm/consumer.h"
#include "util/endpoint.h"

namespace fh::ctl {

namespace {

struct DiscardRecords {
  void mbo(const record::MboMsg&) noexcept {}
  void mbp1(const record::Mbp1Msg&) noexcept {}
};

// Messages into the books through a prefetch window (book/prefetch_window.h),
// as fhd applies them: each message's memory is on its way while the ones
// before it are applied. A message pointer must stay valid until flush().
class BookVisitor {
 public:
  using Builder = book::BookBuilder<DiscardRecords>;
  BookVisitor(Builder& builder, uint64_t until) : builder_(builder), window_(builder), until_(until) {}

  void message(const feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
    if (meta.sequence > until_) return;
    window_.push({meta.sequence, meta.receivedNs, msg, length}, apply_);
  }
  void malformedPacket(uint64_t, const mold::PacketResult&) {}
  // Applies the messages the window still holds.
  void flush() { window_.drain(apply_); }

  const itch::DecodeCounters& counters() const { return counters_; }
  uint64_t applied() const { return applied_; }  // messages handed to the books

 private:
  struct Apply {
    BookVisitor& v;
    void operator()(const book::PrefetchWindow<Builder>::Entry& e) const {
      v.builder_.setContext(e.position, e.recvNs);
      v.counters_.count(itch::decode(e.msg, e.length, v.builder_), e.length > 0 ? e.msg[0] : 0);
      ++v.applied_;
    }
  };

  Builder& builder_;
  book::PrefetchWindow<Builder> window_;
  Apply apply_{*this};
  uint64_t until_;
  itch::DecodeCounters counters_;
  uint64_t applied_ = 0;
};

// The sequencer's output into the books: each message once, in order.
class SequencedBooks {
 public:
  explicit SequencedBooks(BookVisitor& visitor) : visitor_(visitor) {}
  void message(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    visitor_.message(feed::MessageMeta{sequence, {}, recvNs, true}, msg, length);
  }
  void gap(uint64_t, uint64_t count) noexcept { lost_ += count; }
  void endOfSession() noexcept {}
  void join(uint64_t sequence) noexcept { joinedAt_ = sequence; }
  void newSession() noexcept {}
  void endOfPacket() noexcept { visitor_.flush(); }  // the packet's bytes may be reused after this
  uint64_t lost() const noexcept { return lost_; }
  uint64_t joinedAt() const noexcept { return joinedAt_; }

 private:
  BookVisitor& visitor_;
  uint64_t lost_ = 0, joinedAt_ = 0;
};

// A book as printed, from either source: prices in DBN units (1e-9).
struct ShownLevel {
  int64_t price;
  uint64_t shares;
  uint32_t orders;
};
struct ShownBook {
  std::string symbol;
  uint16_t locate = 0;
  std::string state;  // notes for people: trading state, maybe bad...
  std::vector<ShownLevel> bids, asks;
};

void printJsonSide(Output& out, const std::vector<ShownLevel>& side, uint32_t depth) {
  out.put('[');
  const size_t n = std::min<size_t>(side.size(), depth);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out.put(',');
    out.put('[');
    out.put(decimalPrice9(side[i].price));
    out.put(',');
    out.putUnsigned(side[i].shares);
    out.put(',');
    out.putUnsigned(side[i].orders);
    out.put(']');
  }
  out.put(']');
}

void printJson(Output& out, const ShownBook& b, uint32_t depth) {
  out.put("{\"symbol\":");
  putJsonString(out, b.symbol);
  out.put(",\"locate\":");
  out.putUnsigned(b.locate);
  out.put(",\"bids\":");
  printJsonSide(out, b.bids, depth);
  out.put(",\"asks\":");
  printJsonSide(out, b.asks, depth);
  out.put('}');
  out.endLine();
}

// Prices in the ladder keep at least four decimals so the columns line up.
std::string fixedPrice(int64_t price) {
  std::string s = decimalPrice9(price);
  const size_t dot = s.find('.');
  const size_t decimals = dot == std::string::npos ? 0 : s.size() - dot - 1;
  if (dot == std::string::npos) s += '.';
  if (decimals < 4) s.append(4 - decimals, '0');
  return s;
}

void printLadder(Output& out, const ShownBook& b, uint32_t depth) {
  char line[200];
  std::snprintf(line, sizeof line, "%s (locate %u)%s", b.symbol.c_str(), b.locate, b.state.c_str());
  out.put(line);
  out.endLine();
  std::snprintf(line, sizeof line, "  %6s %12s %12s | %-12s %12s %6s", "orders", "shares", "bid", "ask", "shares",
                "orders");
  out.put(line);
  out.endLine();
  const size_t rows = std::min<size_t>(std::max(b.bids.size(), b.asks.size()), depth);
  for (size_t i = 0; i < rows; ++i) {
    std::string bid(32, ' '), ask;
    if (i < b.bids.size()) {
      const ShownLevel& l = b.bids[i];
      std::snprintf(line, sizeof line, "%6u %12llu %12s", l.orders, static_cast<unsigned long long>(l.shares),
                    fixedPrice(l.price).c_str());
      bid = line;
    }
    if (i < b.asks.size()) {
      const ShownLevel& l = b.asks[i];
      std::snprintf(line, sizeof line, "%-12s %12llu %6u", fixedPrice(l.price).c_str(),
                    static_cast<unsigned long long>(l.shares), l.orders);
      ask = line;
    }
    out.put("  ");
    out.put(bid);
    out.put(ask.empty() ? " |" : " | ");
    out.put(ask);
    out.endLine();
  }
  out.endLine();
}

ShownBook showFromBooks(const book::OrderBooks& books, const std::string& symbol, uint16_t locate) {
  const book::Instrument& in = *books.instrument(locate);
  ShownBook b{symbol, locate, {}, {}, {}};
  if (in.tradingState != ' ') b.state += std::string(", trading state ") + in.tradingState;
  if (in.maybeBad) b.state += ", MAYBE BAD";
  for (book::Side side : {book::Side::Bid, book::Side::Ask}) {
    auto& levels = side == book::Side::Bid ? b.bids : b.asks;
    for (uint32_t i = 0; i < books.depth(locate, side); ++i) {
      const book::PriceLevel l = books.level(locate, side, i);
      levels.push_back({l.price, l.shares, l.orders});
    }
  }
  return b;
}

// Which books to print, by symbol: the named ones (an unknown name is an
// error), or all that have orders, sorted by symbol; then the busiest if asked.
template <class Levels>
std::vector<std::pair<std::string, uint16_t>> chooseBooks(const std::multimap<std::string, uint16_t>& bySymbol,
                                                          const BookOptions& options, const std::string& where,
                                                          Levels&& levels, int& status) {
  std::vector<std::pair<std::string, uint16_t>> chosen;
  if (options.symbols.empty()) {
    for (const auto& [symbol, locate] : bySymbol)
      if (levels(locate) > 0) chosen.emplace_back(symbol, locate);
    if (options.busiest > 0) {
      std::stable_sort(chosen.begin(), chosen.end(),
                       [&](const auto& a, const auto& b) { return levels(a.second) > levels(b.second); });
      chosen.resize(std::min<size_t>(chosen.size(), options.busiest));
    }
    return chosen;
  }
  for (const std::string& symbol : options.symbols) {
    const auto [first, last] = bySymbol.equal_range(symbol);
    if (first == last) {
      std::fprintf(stderr, "fhctl book: %s: no instrument named %s\n", where.c_str(), symbol.c_str());
      status = 1;
    }
    for (auto it = first; it != last; ++it) chosen.emplace_back(it->first, it->second);
  }
  return chosen;
}

}  // namespace

int runBookFromFile(const BookOptions& options) {
  try {
    const capture::MappedFile file(options.file);
    // No file holds more live orders than add messages (36 bytes or more),
    // nor more levels than orders; a level takes at most 4 arena slots.
    book::BookConfig config;
    const uint64_t adds = file.bytes().size() / 36 + 16;
    config.maxOrders = static_cast<uint32_t>(std::min<uint64_t>(options.maxOrders, adds));
    config.maxLevels = static_cast<uint32_t>(std::min<uint64_t>(options.maxLevels, adds * 4));
    book::OrderBooks books(config);
    DiscardRecords discard;
    book::BookBuilder<DiscardRecords> builder(books, discard, 0);
    BookVisitor visitor(builder, options.until);
    feed::FileSourceCounters source;
    feed::FileSourceResult result;
    const auto t0 = std::chrono::steady_clock::now();
    if (!options.lineA.empty()) {
      // The capture's lines through the sequencer fhd uses: each message once.
      std::vector<feed::CaptureLine> lines;
      for (const auto& [name, text] : {std::pair{"--line-a", options.lineA}, std::pair{"--line-b", options.lineB}}) {
        if (text.empty()) continue;
        const auto line = parseEndpoint(text);
        if (!line) {
          std::fprintf(stderr, "fhctl book: %s %s: not GROUP:PORT\n", name, text.c_str());
          return 1;
        }
        lines.push_back({line->address, line->port});
      }
      feed::SequencerConfig sequencing;
      sequencing.lines = static_cast<uint32_t>(lines.size());
      SequencedBooks sink(visitor);
      feed::Sequencer<SequencedBooks> sequencer(sequencing, sink);
      uint64_t lastNs = 0;
      result = feed::replayLines(file.bytes(), lines, source, [&](int line, std::span<const uint8_t> p, uint64_t ts) {
        sequencer.packet(line, p, ts);
        lastNs = ts;
      });
      sequencer.idle(lastNs + 3'600'000'000'000);  // the file is over: what is missing is lost
      if (sink.lost() > 0 || sink.joinedAt() > 0) {
        std::string why;
        if (sink.joinedAt() > 0)
          why = "the capture starts at sequence " + std::to_string(sink.joinedAt()) + ", in mid-session; ";
        std::fprintf(stderr, "fhctl book: %s: the books are incomplete: %s%llu messages missing on every line\n",
                     options.file.c_str(), why.c_str(), static_cast<unsigned long long>(sink.lost()));
      }
    } else {
      result = feed::replayFile(file.bytes(), feed::FileSourceOptions{options.port}, source, visitor);
    }
    visitor.flush();
    if (options.timing) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double n = static_cast<double>(visitor.applied());
      std::fprintf(stderr, "fhctl book: %llu messages into the books in %.3f s (%.2fM messages/s, %.1f ns/message)\n",
                   static_cast<unsigned long long>(visitor.applied()), seconds, n / seconds / 1e6,
                   n > 0 ? seconds * 1e9 / n : 0.0);
    }
    if (!result.ok()) {
      std::fprintf(stderr, "fhctl book: %s\n", result.describe(options.file).c_str());
      return 1;
    }
    const auto& full = books.counters();
    if (full.orderStoreFull + full.levelStoreFull > 0) {
      std::fprintf(stderr,
                   "fhctl book: %s: the books are incomplete: %llu orders found the order store full "
                   "(--max-orders %u) and %llu levels the level arena full (--max-levels %u)\n",
                   options.file.c_str(), static_cast<unsigned long long>(full.orderStoreFull), config.maxOrders,
                   static_cast<unsigned long long>(full.levelStoreFull), config.maxLevels);
      return 1;
    }

    std::multimap<std::string, uint16_t> bySymbol;
    for (uint32_t locate = 1; locate < books.maxInstruments(); ++locate) {
      const book::Instrument* in = books.instrument(static_cast<uint16_t>(locate));
      if (in->symbol[0] != '\0') bySymbol.emplace(std::string(in->symbolTrimmed()), static_cast<uint16_t>(locate));
    }
    int status = 0;
    const auto chosen = chooseBooks(
        bySymbol, options, options.file,
        [&](uint16_t locate) { return books.depth(locate, book::Side::Bid) + books.depth(locate, book::Side::Ask); },
        status);
    const uint32_t depth = options.depth == 0 ? UINT32_MAX : options.depth;
    Output out(stdout);
    for (const auto& [symbol, locate] : chosen) {
      const ShownBook b = showFromBooks(books, symbol, locate);
      options.json ? printJson(out, b, depth) : printLadder(out, b, depth);
    }
    if (!options.json) {
      const auto& b = books.counters();
      const auto& d = visitor.counters();
      char line[400];
      std::snprintf(line, sizeof line,
                    "%llu messages; %llu live orders on %llu price levels; ignored: %llu references to unknown "
                    "orders, %llu duplicate adds, %llu unknown types, %llu wrong lengths",
                    static_cast<unsigned long long>(d.messages), static_cast<unsigned long long>(books.liveOrders()),
                    static_cast<unsigned long long>(books.liveLevels()),
                    static_cast<unsigned long long>(b.unknownOrder), static_cast<unsigned long long>(b.duplicateOrder),
                    static_cast<unsigned long long>(d.unknownType), static_cast<unsigned long long>(d.badLength));
      out.put(line);
      out.endLine();
    }
    out.flush();
    if (out.failed()) {
      std::fprintf(stderr, "fhctl book: cannot write the output\n");
      return 1;
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl book: %s\n", e.what());
    return 1;
  }
}

int runBookFromRegion(const BookOptions& options, const RegionOptions& region) {
  try {
    shm::Consumer::Options consumerOptions;
    consumerOptions.directory = region.directory;
    const shm::Consumer consumer(region.name, consumerOptions);
    const std::string where = consumer.path();
    // One consistent copy of every book, taken once, so that the selection and
    // the printing see the same state.
    std::multimap<std::string, uint16_t> bySymbol;
    std::map<uint16_t, ShownBook> shown;
    auto snapshot = std::make_unique<shm::BookSnapshot>();
    for (const shm::InstrumentInfo& in : consumer.instruments()) {
      bySymbol.emplace(in.symbol, in.locate);
      if (consumer.copyBook(in.locate, *snapshot) != shm::CopyStatus::Ok) {
        std::fprintf(stderr, "fhctl book: %s: the writer holds the book of %s: it may have died mid-update\n",
                     where.c_str(), in.symbol);
        return 1;
      }
      ShownBook b{in.symbol, in.locate, {}, {}, {}};
      if (in.tradingState != ' ') b.state += std::string(", trading state ") + in.tradingState;
      if (snapshot->fields.status == shm::BookStatus::Stale) b.state += ", STALE";
      if (snapshot->fields.status == shm::BookStatus::Joining) b.state += ", JOINING (incomplete)";
      for (uint32_t i = 0; i < snapshot->fields.bidLevels; ++i)
        b.bids.push_back({snapshot->bids[i].price, snapshot->bids[i].shares, snapshot->bids[i].orders});
      for (uint32_t i = 0; i < snapshot->fields.askLevels; ++i)
        b.asks.push_back({snapshot->asks[i].price, snapshot->asks[i].shares, snapshot->asks[i].orders});
      shown.emplace(in.locate, std::move(b));
    }
    int status = 0;
    const auto chosen = chooseBooks(
        bySymbol, options, where,
        [&](uint16_t locate) { return shown[locate].bids.size() + shown[locate].asks.size(); }, status);
    if (options.depth > consumer.depth())
      std::fprintf(stderr, "fhctl book: %s publishes %u levels a side; showing those\n", where.c_str(),
                   consumer.depth());
    const uint32_t depth = options.depth == 0 ? UINT32_MAX : options.depth;
    Output out(stdout);
    for (const auto& [symbol, locate] : chosen)
      options.json ? printJson(out, shown[locate], depth) : printLadder(out, shown[locate], depth);
    out.flush();
    if (out.failed()) {
      std::fprintf(stderr, "fhctl book: cannot write the output\n");
      return 1;
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl book: %s\n", e.what());
    return 1;
  }
}

}  // namespace fh::ctl
