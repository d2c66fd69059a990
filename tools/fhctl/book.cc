#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "book/book_builder.h"
#include "commands.h"
#include "feed/file_source.h"
#include "itch/decoder.h"
#include "print.h"

namespace fh::ctl {

namespace {

struct DiscardRecords {
  void mbo(const record::MboMsg&) noexcept {}
  void mbp1(const record::Mbp1Msg&) noexcept {}
};

class BookVisitor {
 public:
  explicit BookVisitor(book::BookBuilder<DiscardRecords>& builder) : builder_(builder) {}

  void message(const feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
    builder_.setContext(meta.sequence, meta.receivedNs);
    counters_.count(itch::decode(msg, length, builder_), length > 0 ? msg[0] : 0);
  }
  void malformedPacket(uint64_t, const mold::PacketResult&) {}

  const itch::DecodeCounters& counters() const { return counters_; }

 private:
  book::BookBuilder<DiscardRecords>& builder_;
  itch::DecodeCounters counters_;
};

void printJsonSide(Output& out, const book::OrderBooks& books, uint16_t locate, book::Side side,
                   uint32_t depth) {
  out.put('[');
  const uint32_t n = std::min(books.depth(locate, side), depth);
  for (uint32_t i = 0; i < n; ++i) {
    const book::PriceLevel l = books.level(locate, side, i);
    if (i > 0) out.put(',');
    out.put('[');
    out.put(decimalPrice4(l.price));
    out.put(',');
    out.putUnsigned(l.shares);
    out.put(',');
    out.putUnsigned(l.orders);
    out.put(']');
  }
  out.put(']');
}

void printJson(Output& out, const book::OrderBooks& books, const std::string& symbol, uint16_t locate,
               uint32_t depth) {
  out.put("{\"symbol\":");
  putJsonString(out, symbol);
  out.put(",\"locate\":");
  out.putUnsigned(locate);
  out.put(",\"bids\":");
  printJsonSide(out, books, locate, book::Side::Bid, depth);
  out.put(",\"asks\":");
  printJsonSide(out, books, locate, book::Side::Ask, depth);
  out.put('}');
  out.endLine();
}

// Prices in the ladder keep their four decimals so the columns line up.
std::string fixedPrice4(uint32_t price) {
  char text[32];
  std::snprintf(text, sizeof text, "%llu.%04llu", static_cast<unsigned long long>(price / 10000),
                static_cast<unsigned long long>(price % 10000));
  return text;
}

void printLadder(Output& out, const book::OrderBooks& books, const std::string& symbol, uint16_t locate,
                 uint32_t depth) {
  const book::Instrument& in = *books.instrument(locate);
  char line[160];
  std::snprintf(line, sizeof line, "%s (locate %u)%s%s", symbol.c_str(), locate,
                in.tradingState != ' ' ? (std::string(", trading state ") + in.tradingState).c_str() : "",
                in.maybeBad ? ", MAYBE BAD" : "");
  out.put(line);
  out.endLine();
  std::snprintf(line, sizeof line, "  %6s %12s %12s | %-12s %12s %6s", "orders", "shares", "bid", "ask",
                "shares", "orders");
  out.put(line);
  out.endLine();
  const uint32_t rows =
      std::min(std::max(books.depth(locate, book::Side::Bid), books.depth(locate, book::Side::Ask)), depth);
  for (uint32_t i = 0; i < rows; ++i) {
    std::string bid(32, ' '), ask;
    if (i < books.depth(locate, book::Side::Bid)) {
      const book::PriceLevel l = books.level(locate, book::Side::Bid, i);
      std::snprintf(line, sizeof line, "%6u %12llu %12s", l.orders, static_cast<unsigned long long>(l.shares),
                    fixedPrice4(l.price).c_str());
      bid = line;
    }
    if (i < books.depth(locate, book::Side::Ask)) {
      const book::PriceLevel l = books.level(locate, book::Side::Ask, i);
      std::snprintf(line, sizeof line, "%-12s %12llu %6u", fixedPrice4(l.price).c_str(),
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
    BookVisitor visitor(builder);
    feed::FileSourceCounters source;
    const feed::FileSourceResult result =
        feed::replayFile(file.bytes(), feed::FileSourceOptions{options.port}, source, visitor);
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
    std::vector<std::pair<std::string, uint16_t>> chosen;
    int status = 0;
    const auto levels = [&](uint16_t locate) {
      return books.depth(locate, book::Side::Bid) + books.depth(locate, book::Side::Ask);
    };
    if (options.symbols.empty()) {
      for (const auto& [symbol, locate] : bySymbol)
        if (levels(locate) > 0) chosen.emplace_back(symbol, locate);
      if (options.busiest > 0) {
        std::stable_sort(chosen.begin(), chosen.end(),
                         [&](const auto& a, const auto& b) { return levels(a.second) > levels(b.second); });
        chosen.resize(std::min<size_t>(chosen.size(), options.busiest));
      }
    } else {
      for (const std::string& symbol : options.symbols) {
        const auto [first, last] = bySymbol.equal_range(symbol);
        if (first == last) {
          std::fprintf(stderr, "fhctl book: %s: no instrument named %s\n", options.file.c_str(), symbol.c_str());
          status = 1;
        }
        for (auto it = first; it != last; ++it) chosen.emplace_back(it->first, it->second);
      }
    }

    const uint32_t depth = options.depth == 0 ? UINT32_MAX : options.depth;
    Output out(stdout);
    for (const auto& [symbol, locate] : chosen)
      options.json ? printJson(out, books, symbol, locate, depth) : printLadder(out, books, symbol, locate, depth);
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

}  // namespace fh::ctl
