// fhctl top: a live view of a region's busiest books, redrawn every interval:
// best bid and offer from the books, last trade and records per second from
// the tick ring, sorted by activity. On a terminal the frame is redrawn in
// place (ANSI home and clear); otherwise frames follow each other, separated
// by a blank line.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
#include "print.h"
#include "record/record.h"
#include "shm/consumer.h"

namespace fh::ctl {

namespace {

uint64_t monotonicNs() { return shm::clockNs(CLOCK_MONOTONIC); }

// What the tick stream says about one instrument.
struct Activity {
  uint64_t ticks = 0;  // records in the current interval
  int64_t lastPrice = record::kUndefPrice;
  uint32_t lastSize = 0;
};

struct Row {
  std::string symbol;
  uint64_t ticks = 0;
  uint64_t updates = 0;
  std::string bid, ask, last, status;
};

std::string statusText(const shm::BookFields& f, char tradingState) {
  std::string s;
  switch (tradingState) {
    case 'T':
      s = "trading";
      break;
    case 'H':
      s = "halted";
      break;
    case 'P':
      s = "paused";
      break;
    case 'Q':
      s = "quoting";
      break;
    case ' ':
      s = "-";
      break;
    default:
      s = std::string("state ") + tradingState;
  }
  if (f.status == shm::BookStatus::Halted && tradingState != 'H' && tradingState != 'P') s += " halted";
  if (f.status == shm::BookStatus::Stale) s += " STALE";
  if (f.status == shm::BookStatus::Joining) s += " JOINING";
  return s;
}

class Top {
 public:
  Top(shm::Consumer& consumer, const TopOptions& options) : consumer_(consumer), options_(options) { reset(); }

  // A new writer: nothing from the old one applies.
  void reset() {
    activity_.assign(consumer_.maxInstruments(), Activity{});
    messages_ = consumer_.findCounter("messages");
    liveOrders_ = consumer_.findCounter("book.live_orders");
    messagesBefore_ = messages_ ? consumer_.counter(*messages_) : 0;
    lost_ = 0;
  }

  // Rates count from now on.
  void startCounting() {
    for (Activity& a : activity_) a.ticks = 0;
    messagesBefore_ = messages_ ? consumer_.counter(*messages_) : 0;
    lost_ = 0;
  }

  void refuseIfInvalid(const shm::PollResult& r) const {
    if (r.invalid)
      throw std::runtime_error(consumer_.path() +
                               ": the ring lies (its indexes point at no record): not an fh "
                               "region to trust");
  }

  // Reads what the ring still holds, for the last trades only, for at most
  // `seconds` (a fast writer may never let a reader catch up).
  void readHistory(double seconds) {
    const uint64_t end = monotonicNs() + static_cast<uint64_t>(seconds * 1e9);
    while (monotonicNs() < end) {
      const shm::PollResult r = consumer_.poll([&](const shm::Tick& t) { see(t, false); });
      refuseIfInvalid(r);
      if (r.reattached) reset();
      if (r.records == 0) break;
    }
  }

  // Counts ticks until `end`; false if a stop was requested.
  bool collect(uint64_t end) {
    for (;;) {
      const shm::PollResult r = consumer_.poll([&](const shm::Tick& t) { see(t, true); });
      refuseIfInvalid(r);
      lost_ += r.lost;
      if (r.reattached) {
        reset();
        reattached_ = true;
      }
      if (stopRequested()) return false;
      const uint64_t now = monotonicNs();
      if (now >= end) return true;
      if (r.records == 0) sleepUnlessStopped(std::min(0.001, static_cast<double>(end - now) / 1e9));
    }
  }

  void render(Output& out, double seconds, bool terminal) {
    std::vector<Row> rows;
    auto snapshot = std::make_unique<shm::BookSnapshot>();
    for (const shm::InstrumentInfo& in : consumer_.instruments()) {
      const Activity& a = activity_[in.locate];
      if (consumer_.copyBook(in.locate, *snapshot) != shm::CopyStatus::Ok) continue;
      const shm::BookFields& f = snapshot->fields;
      if (f.updates == 0 && a.ticks == 0) continue;
      Row row;
      row.symbol = in.symbol;
      row.ticks = a.ticks;
      row.updates = f.updates;
      row.bid = f.bidLevels > 0
                    ? std::to_string(snapshot->bids[0].shares) + " x " + decimalPrice9(snapshot->bids[0].price)
                    : "-";
      row.ask = f.askLevels > 0
                    ? decimalPrice9(snapshot->asks[0].price) + " x " + std::to_string(snapshot->asks[0].shares)
                    : "-";
      row.last =
          a.lastPrice == record::kUndefPrice ? "-" : std::to_string(a.lastSize) + " @ " + decimalPrice9(a.lastPrice);
      row.status = statusText(f, in.tradingState);
      rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      if (a.ticks != b.ticks) return a.ticks > b.ticks;
      if (a.updates != b.updates) return a.updates > b.updates;
      return a.symbol < b.symbol;
    });
    size_t shown = std::min<size_t>(rows.size(), options_.count);
    if (terminal) {
      winsize ws{};
      if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 4) shown = std::min<size_t>(shown, ws.ws_row - 4);
    }

    const uint64_t messages = messages_ ? consumer_.counter(*messages_) : 0;
    const double perSecond = [&] {
      if (seconds <= 0 || messages < messagesBefore_) return 0.0;
      return static_cast<double>(messages - messagesBefore_) / seconds;
    }();
    messagesBefore_ = messages;

    char line[400];
    const char* writer = consumer_.writerStatus() == shm::WriterStatus::Running ? "running"
                         : consumer_.writerStatus() == shm::WriterStatus::Stale ? "stale (no heartbeat)"
                                                                                : "stopped";
    if (terminal) out.put("\x1b[H\x1b[2J");
    std::snprintf(line, sizeof line, "fhctl top  %s  %s  writer %s (pid %d, generation %llu)", consumer_.path().c_str(),
                  utcTime(shm::realtimeNs(), true).c_str(), writer, consumer_.header().writerPid,
                  static_cast<unsigned long long>(consumer_.generation()));
    out.put(line);
    out.endLine();
    std::snprintf(line, sizeof line, "%.0f messages/s  %s live orders  %zu active books", perSecond,
                  liveOrders_ ? std::to_string(consumer_.counter(*liveOrders_)).c_str() : "?", rows.size());
    out.put(line);
    if (lost_ > 0) {
      std::snprintf(line, sizeof line, "  (lapped: %llu records not counted)", static_cast<unsigned long long>(lost_));
      out.put(line);
    }
    if (reattached_) out.put("  (re-attached to a new writer)");
    out.endLine();
    std::snprintf(line, sizeof line, "%-8s %9s %24s / %-24s %24s %10s  %s", "SYMBOL", "TICKS/S", "BID SIZE x PRICE",
                  "ASK PRICE x SIZE", "LAST TRADE", "UPDATES", "STATUS");
    out.put(line);
    out.endLine();
    for (size_t i = 0; i < shown; ++i) {
      const Row& r = rows[i];
      const double rate = seconds > 0 ? static_cast<double>(r.ticks) / seconds : 0.0;
      std::snprintf(line, sizeof line, "%-8s %9.0f %24s / %-24s %24s %10llu  %s", r.symbol.c_str(), rate, r.bid.c_str(),
                    r.ask.c_str(), r.last.c_str(), static_cast<unsigned long long>(r.updates), r.status.c_str());
      out.put(line);
      out.endLine();
    }
    for (Activity& a : activity_) a.ticks = 0;
    lost_ = 0;
    reattached_ = false;
  }

 private:
  void see(const shm::Tick& t, bool count) {
    const uint32_t locate = t.header->instrumentId;
    if (locate >= activity_.size()) return;
    Activity& a = activity_[locate];
    if (count) ++a.ticks;
    if (const auto* m = t.mbo(); m && (m->action == record::Action::Trade || m->action == record::Action::Fill)) {
      a.lastPrice = m->price;
      a.lastSize = m->size;
    }
  }

  shm::Consumer& consumer_;
  const TopOptions& options_;
  std::vector<Activity> activity_;
  std::optional<uint32_t> messages_, liveOrders_;
  uint64_t messagesBefore_ = 0;
  uint64_t lost_ = 0;
  bool reattached_ = false;
};

}  // namespace

int runTop(const TopOptions& options, const RegionOptions& region) {
  installStopHandlers();
  try {
    shm::Consumer::Options consumerOptions;
    consumerOptions.directory = region.directory;
    consumerOptions.start = shm::StartAt::Oldest;
    shm::Consumer consumer(region.name, consumerOptions);
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    Top top(consumer, options);
    top.readHistory(0.5);
    Output out(stdout);
    const auto interval = static_cast<uint64_t>(options.interval * 1e9);
    uint64_t start = monotonicNs();
    top.startCounting();
    for (uint64_t frame = 0; !options.iterations || frame < *options.iterations; ++frame) {
      if (!top.collect(start + interval)) break;
      const uint64_t now = monotonicNs();
      if (frame > 0 && !terminal) out.endLine();
      top.render(out, static_cast<double>(now - start) / 1e9, terminal);
      start = now;
      out.flush();
      if (out.failed()) {
        if (errno == EPIPE) return 0;
        std::fprintf(stderr, "fhctl top: cannot write the output\n");
        return 1;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl top: %s\n", e.what());
    return 1;
  }
}

}  // namespace fh::ctl
