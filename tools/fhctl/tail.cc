// fhctl tail: a region's tick stream as it happens, one line per record, for
// people (text) or for tools (JSON Lines with DBN field names). Also the
// helpers that the live views share: stop signals, sleeps, UTC times.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "print.h"
#include "record/record.h"
#include "shm/consumer.h"

namespace fh::ctl {

namespace {

volatile sig_atomic_t gStop = 0;

void onStopSignal(int) { gStop = 1; }

uint64_t monotonicNs() { return shm::clockNs(CLOCK_MONOTONIC); }

}  // namespace

void installStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a sleep ends at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

bool stopRequested() { return gStop != 0; }

bool sleepUnlessStopped(double seconds) {
  if (gStop) return false;
  const double whole = std::floor(seconds);
  timespec ts{static_cast<time_t>(whole), static_cast<long>((seconds - whole) * 1e9)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR)
    if (gStop) return false;
  return gStop == 0;
}

std::string utcTime(uint64_t ns, bool withDate) {
  const time_t seconds = static_cast<time_t>(ns / 1'000'000'000);
  tm t{};
  ::gmtime_r(&seconds, &t);
  char buf[64];
  const auto frac = static_cast<unsigned long>(ns % 1'000'000'000);
  if (withDate)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09luZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                  t.tm_hour, t.tm_min, t.tm_sec, frac);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%09lu", t.tm_hour, t.tm_min, t.tm_sec, frac);
  return buf;
}

namespace {

// Symbols by locate, read from the directory the first time a locate is seen
// and again while it has none (a stock directory message may come later).
class SymbolCache {
 public:
  explicit SymbolCache(const shm::Consumer& consumer) : consumer_(&consumer) {}

  std::string_view symbol(uint32_t locate) {
    if (locate >= consumer_->maxInstruments()) return {};
    if (locate >= names_.size()) names_.resize(locate + 1);
    std::string& name = names_[locate];
    if (name.empty()) {
      shm::InstrumentInfo info;
      if (consumer_->instrument(static_cast<uint16_t>(locate), info)) name = info.symbol;
    }
    return name;
  }
  // Another writer: its locates may name other instruments.
  void reset(const shm::Consumer& consumer) {
    consumer_ = &consumer;
    names_.clear();
  }

 private:
  const shm::Consumer* consumer_;
  std::vector<std::string> names_;
};

std::string flagsText(uint8_t f) {
  static constexpr std::pair<uint8_t, const char*> kNames[] = {{record::flags::kLast, "LAST"},
                                                               {record::flags::kTob, "TOB"},
                                                               {record::flags::kSnapshot, "SNAPSHOT"},
                                                               {record::flags::kMbp, "MBP"},
                                                               {record::flags::kBadTsRecv, "BAD_TS_RECV"},
                                                               {record::flags::kMaybeBadBook, "MAYBE_BAD_BOOK"}};
  std::string s;
  for (const auto& [bit, name] : kNames)
    if (f & bit) {
      if (!s.empty()) s += '|';
      s += name;
    }
  const uint8_t other = f & 0x03;
  if (other != 0) {
    if (!s.empty()) s += '|';
    s += std::to_string(other);
  }
  return s.empty() ? "-" : s;
}

const char* statusActionName(record::StatusAction a) {
  switch (a) {
    case record::StatusAction::None:
      return "none";
    case record::StatusAction::Quoting:
      return "quoting";
    case record::StatusAction::Trading:
      return "trading";
    case record::StatusAction::Halt:
      return "halt";
    case record::StatusAction::Pause:
      return "pause";
  }
  return nullptr;
}

const char* statusReasonName(record::StatusReason r) {
  switch (r) {
    case record::StatusReason::None:
      return "none";
    case record::StatusReason::BookStale:
      return "book_stale";
    case record::StatusReason::BookRecovered:
      return "book_recovered";
    case record::StatusReason::BookJoining:
      return "book_joining";
  }
  return nullptr;
}

// A char field as printed: itself if printable, else '?'.
char shown(char c) { return c >= 0x20 && c <= 0x7E ? c : '?'; }

class TickPrinter {
 public:
  TickPrinter(Output& out, bool json) : out_(out), json_(json) {}

  void print(const shm::Tick& t, std::string_view symbol) {
    if (const auto* m = t.mbo())
      json_ ? jsonMbo(*m, symbol) : textMbo(*m, symbol);
    else if (const auto* p = t.mbp1())
      json_ ? jsonMbp1(*p, symbol) : textMbp1(*p, symbol);
    else if (const auto* s = t.status())
      json_ ? jsonStatus(*s, symbol) : textStatus(*s, symbol);
    else
      json_ ? jsonOther(t, symbol) : textOther(t, symbol);
    out_.endLine();
  }

 private:
  void key(const char* name) {
    out_.put(",\"");
    out_.put(name);
    out_.put("\":");
  }
  void number(const char* name, uint64_t v) {
    key(name);
    out_.putUnsigned(v);
  }
  void signedNumber(const char* name, int64_t v) {
    key(name);
    out_.put(std::to_string(v));
  }
  void price(const char* name, int64_t v) {
    key(name);
    out_.put(decimalPrice9(v));
  }
  void character(const char* name, char c) {
    key(name);
    putJsonString(out_, std::string_view(&c, 1));
  }
  void head(const char* rtype, const record::RecordHeader& hd, uint64_t tsRecv, std::string_view symbol) {
    out_.put("{\"rtype\":\"");
    out_.put(rtype);
    out_.put('"');
    number("ts_recv", tsRecv);
    number("ts_event", hd.tsEvent);
    number("instrument_id", hd.instrumentId);
    key("symbol");
    putJsonString(out_, symbol);
    number("publisher_id", hd.publisherId);
  }

  void jsonMbo(const record::MboMsg& m, std::string_view symbol) {
    head("mbo", m.hd, m.tsRecv, symbol);
    character("action", static_cast<char>(m.action));
    character("side", static_cast<char>(m.side));
    price("price", m.price);
    number("size", m.size);
    number("channel_id", m.channelId);
    number("order_id", m.orderId);
    number("flags", m.flags);
    signedNumber("ts_in_delta", m.tsInDelta);
    number("sequence", m.sequence);
    out_.put('}');
  }
  void jsonMbp1(const record::Mbp1Msg& m, std::string_view symbol) {
    head("mbp-1", m.hd, m.tsRecv, symbol);
    character("action", static_cast<char>(m.action));
    character("side", static_cast<char>(m.side));
    number("depth", m.depth);
    price("price", m.price);
    number("size", m.size);
    number("flags", m.flags);
    signedNumber("ts_in_delta", m.tsInDelta);
    number("sequence", m.sequence);
    const record::BidAskPair& l = m.levels[0];
    out_.put(",\"levels\":[{\"bid_px\":");
    out_.put(decimalPrice9(l.bidPx));
    price("ask_px", l.askPx);
    number("bid_sz", l.bidSz);
    number("ask_sz", l.askSz);
    number("bid_ct", l.bidCt);
    number("ask_ct", l.askCt);
    out_.put("}]}");
  }
  void jsonStatus(const record::StatusMsg& m, std::string_view symbol) {
    head("status", m.hd, m.tsRecv, symbol);
    number("action", static_cast<uint16_t>(m.action));
    number("reason", static_cast<uint16_t>(m.reason));
    number("trading_event", m.tradingEvent);
    character("is_trading", m.isTrading);
    character("is_quoting", m.isQuoting);
    character("is_short_sell_restricted", m.isShortSellRestricted);
    out_.put('}');
  }
  void jsonOther(const shm::Tick& t, std::string_view symbol) {
    out_.put("{\"rtype\":");
    out_.putUnsigned(static_cast<uint8_t>(t.rtype()));
    number("ts_event", t.header->tsEvent);
    number("instrument_id", t.header->instrumentId);
    key("symbol");
    putJsonString(out_, symbol);
    number("length", t.bytes);
    out_.put('}');
  }

  void lead(const record::RecordHeader& hd, std::string_view symbol, const char* rtype) {
    char name[16];
    if (symbol.empty())
      std::snprintf(name, sizeof name, "#%u", hd.instrumentId);
    else
      std::snprintf(name, sizeof name, "%.*s", static_cast<int>(symbol.size()), symbol.data());
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %-8s %-6s ", utcTime(hd.tsEvent, false).c_str(), name, rtype);
    out_.put(buf);
  }
  void textMbo(const record::MboMsg& m, std::string_view symbol) {
    lead(m.hd, symbol, "mbo");
    char buf[200];
    std::snprintf(buf, sizeof buf, "%c %c %8u @ %-12s order=%llu seq=%u flags=%s", shown(static_cast<char>(m.action)),
                  shown(static_cast<char>(m.side)), m.size, decimalPrice9(m.price).c_str(),
                  static_cast<unsigned long long>(m.orderId), m.sequence, flagsText(m.flags).c_str());
    out_.put(buf);
  }
  void textMbp1(const record::Mbp1Msg& m, std::string_view symbol) {
    lead(m.hd, symbol, "mbp-1");
    const record::BidAskPair& l = m.levels[0];
    char buf[300];
    std::snprintf(buf, sizeof buf, "%c %c %8u @ %-12s depth=%u bbo %u x %s / %s x %u (%u/%u orders) seq=%u flags=%s",
                  shown(static_cast<char>(m.action)), shown(static_cast<char>(m.side)), m.size,
                  decimalPrice9(m.price).c_str(), m.depth, l.bidSz, decimalPrice9(l.bidPx).c_str(),
                  decimalPrice9(l.askPx).c_str(), l.askSz, l.bidCt, l.askCt, m.sequence, flagsText(m.flags).c_str());
    out_.put(buf);
  }
  void textStatus(const record::StatusMsg& m, std::string_view symbol) {
    lead(m.hd, symbol, "status");
    const char* action = statusActionName(m.action);
    const char* reason = statusReasonName(m.reason);
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s reason=%s trading=%c quoting=%c short_sell_restricted=%c",
                  action ? action : std::to_string(static_cast<uint16_t>(m.action)).c_str(),
                  reason ? reason : std::to_string(static_cast<uint16_t>(m.reason)).c_str(), shown(m.isTrading),
                  shown(m.isQuoting), shown(m.isShortSellRestricted));
    out_.put(buf);
  }
  void textOther(const shm::Tick& t, std::string_view symbol) {
    lead(*t.header, symbol, "?");
    out_.put("rtype=");
    out_.putUnsigned(static_cast<uint8_t>(t.rtype()));
    out_.put(" length=");
    out_.putUnsigned(t.bytes);
  }

  Output& out_;
  bool json_;
};

}  // namespace

// Notices (lapped, re-attached, writer stopped) go to stdout as "-- " lines
// in text mode, and to stderr in JSON mode so that stdout stays records only.
int runTail(const TailOptions& options, const RegionOptions& region) {
  installStopHandlers();
  try {
    shm::Consumer::Options consumerOptions;
    consumerOptions.directory = region.directory;
    consumerOptions.start = options.fromOldest ? shm::StartAt::Oldest : shm::StartAt::Live;
    auto consumer = std::make_unique<shm::Consumer>(region.name, consumerOptions);
    const std::string where = consumer->path();
    for (const std::string& s : options.symbols)
      if (!consumer->find(s))
        std::fprintf(stderr, "fhctl tail: %s: no instrument named %s yet; waiting for it\n", where.c_str(), s.c_str());

    Output out(stdout);
    const auto notice = [&](const std::string& text) {
      if (options.json) {
        out.flush();
        std::fprintf(stderr, "fhctl tail: %s: %s\n", where.c_str(), text.c_str());
      } else {
        out.put("-- ");
        out.put(text);
        out.endLine();
      }
    };
    const auto lostNotice = [&](uint64_t lost) {
      notice("lapped by the writer: " + std::to_string(lost) + " records lost");
    };

    SymbolCache symbols(*consumer);
    TickPrinter printer(out, options.json);
    const uint64_t limit = options.count.value_or(UINT64_MAX);
    const uint64_t deadline =
        options.seconds ? monotonicNs() + static_cast<uint64_t>(*options.seconds * 1e9) : UINT64_MAX;
    uint64_t shownRecords = 0;
    bool haveLast = false;
    uint64_t lastIndex = 0;
    uint64_t lostInBatch = 0;
    bool toldIdle = false;
    const auto handler = [&](const shm::Tick& t) {
      if (shownRecords >= limit) return;
      // Gaps in the writer's numbering are laps, reported where they happened.
      if (haveLast && t.index > lastIndex + 1) {
        lostNotice(t.index - lastIndex - 1);
        lostInBatch += t.index - lastIndex - 1;
      }
      haveLast = true;
      lastIndex = t.index;
      const std::string_view symbol = symbols.symbol(t.header->instrumentId);
      if (!options.symbols.empty() &&
          std::find(options.symbols.begin(), options.symbols.end(), symbol) == options.symbols.end())
        return;
      printer.print(t, symbol);
      ++shownRecords;
    };

    while (shownRecords < limit && !stopRequested()) {
      lostInBatch = 0;
      const shm::PollResult r = consumer->poll(handler);
      if (r.invalid) {
        out.flush();
        std::fprintf(stderr,
                     "fhctl tail: %s: the ring lies (its indexes point at no record): not an fh region to trust\n",
                     where.c_str());
        return 1;
      }
      if (r.lost > lostInBatch) lostNotice(r.lost - lostInBatch);  // a lap before the first record
      if (r.reattached) {
        // Everything a new writer publishes comes after this tail started:
        // read it from its oldest record, whatever the first start was.
        // If that writer is already gone, the re-attached consumer goes on.
        shm::Consumer::Options fromOldest = consumerOptions;
        fromOldest.start = shm::StartAt::Oldest;
        try {
          consumer = std::make_unique<shm::Consumer>(region.name, fromOldest);
        } catch (const shm::AttachError&) {
        }
        symbols.reset(*consumer);
        haveLast = false;
        toldIdle = false;
        char text[160];
        std::snprintf(text, sizeof text,
                      "re-attached: a new writer (pid %d, generation %llu); reading it from its oldest record",
                      consumer->header().writerPid, static_cast<unsigned long long>(consumer->generation()));
        notice(text);
      }
      // Not on the poll that re-attached: the new writer's records are unread
      // even if it has already stopped.
      if (r.records == 0 && !r.reattached && !toldIdle && consumer->writerStatus() != shm::WriterStatus::Running) {
        toldIdle = true;
        notice(consumer->writerStatus() == shm::WriterStatus::Stopped ? "the writer has stopped; waiting for a new one"
                                                                      : "the writer has no heartbeat; waiting");
      }
      if (r.records > 0) toldIdle = false;
      out.flush();
      if (out.failed()) {
        if (errno == EPIPE) return 0;
        std::fprintf(stderr, "fhctl tail: cannot write the output\n");
        return 1;
      }
      if (monotonicNs() >= deadline) break;
      if (r.records == 0) sleepUnlessStopped(0.001);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl tail: %s\n", e.what());
    return 1;
  }
}

}  // namespace fh::ctl
