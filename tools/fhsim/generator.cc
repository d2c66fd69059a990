#include "generator.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "itch/encode.h"
#include "itch/fields.h"

namespace fh::sim {

namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t clockTime(uint64_t h, uint64_t m, uint64_t s = 0) { return ((h * 60 + m) * 60 + s) * kSecond; }

constexpr uint64_t kStartOfMessages = clockTime(3, 5);
constexpr uint64_t kDirectoryStart = clockTime(3, 10);
constexpr uint64_t kStartOfSystemHours = clockTime(4, 0);
constexpr uint64_t kOpeningImbalanceStart = clockTime(9, 28);
constexpr uint64_t kMarketOpen = clockTime(9, 30);
constexpr uint64_t kClosingImbalanceStart = clockTime(15, 50);
constexpr uint64_t kMarketClose = clockTime(16, 0);
constexpr uint64_t kEndOfSystemHours = clockTime(20, 0);
constexpr uint64_t kEndOfMessages = clockTime(20, 5);
constexpr uint32_t kTradingMinutes = 390;
constexpr uint64_t kOpeningImbalanceSeconds = (kMarketOpen - kOpeningImbalanceStart) / kSecond;
constexpr uint64_t kClosingImbalanceSeconds = (kMarketClose - kClosingImbalanceStart) / kSecond;
constexpr uint64_t kImbalanceSeconds = kOpeningImbalanceSeconds + kClosingImbalanceSeconds;

constexpr uint32_t kTick = 100;                // one cent in Price(4)
constexpr uint32_t kMaxTicks = 19'999'999;     // $199,999.99, Nasdaq's highest price
constexpr uint32_t kPriceSteps = 6217;         // 1.001^6217 ~ 500: log-uniform $1..$500
constexpr uint64_t kFirstOrderRef = 4096 + 4;  // Nasdaq starts the day around a few thousand
constexpr uint64_t kFirstMatchNumber = 1024;
constexpr uint32_t kNone = UINT32_MAX;

// Shares of the order flow by type (the rest adds and deletes, balanced per
// symbol toward a live-order target) and of the whole file for imbalances.
constexpr double kReplaceShare = 0.092;
constexpr double kCancelShare = 0.022;
constexpr double kExecuteShare = 0.0245;  // executions that start a sweep; sweeps add about a third
constexpr double kExecuteWithPriceShare = 0.002;
constexpr double kTradeShare = 0.015;
constexpr double kRetailInterestShare = 0.0004;
constexpr double kMpidShareOfAdds = 0.024;
constexpr double kImbalanceShareOfFile = 0.008;
constexpr double kLiveOrdersPerMessage = 0.05;  // the plateau of the live-order target
constexpr uint64_t kMaxLivePerSymbol = 200'000;
constexpr double kRampShareOfFlow = 0.2;  // the target rises over this part of the flow
constexpr double kDailyVolatility = 0.006;

constexpr std::string_view kMpids[] = {"VIRT", "FLTU", "GSCO", "PUND", "CDRG", "MSCO", "UBSS", "JPMS",
                                       "SUSQ", "NITE", "XGWD", "IMCC", "HRTF", "CITI", "BARD", "FLTG"};

class Rng {  // xoshiro256**, seeded through splitmix64
 public:
  explicit Rng(uint64_t seed) noexcept {
    for (uint64_t& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }

  uint64_t next() noexcept {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n >= 1.
  uint32_t below(uint32_t n) noexcept { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) noexcept { return uniform() < p; }
  // Failures before the first success, at most cap.
  uint32_t geometric(double p, uint32_t cap) noexcept {
    uint32_t k = 0;
    while (k < cap && !chance(p)) ++k;
    return k;
  }
  // Net displacement of n fair +-1 steps.
  int64_t walk(uint64_t n) noexcept {
    int64_t up = 0;
    for (uint64_t left = n; left > 0;) {
      const unsigned take = left >= 64 ? 64 : static_cast<unsigned>(left);
      const uint64_t bits = take == 64 ? next() : next() & ((uint64_t{1} << take) - 1);
      up += std::popcount(bits);
      left -= take;
    }
    return 2 * up - static_cast<int64_t>(n);
  }

 private:
  uint64_t s_[4];
};

// Buffered BinaryFILE output: each message behind its 2-byte big-endian length.
class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path), buffer_(8u << 20) {
    if (path == "-") {
      fd_ = STDOUT_FILENO;
      return;
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create");
    owned_ = true;
  }
  ~Writer() {
    if (owned_) ::close(fd_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Room for one message of any type.
  uint8_t* slot() {
    if (used_ + 2 + itch::kMaxMessageLength > buffer_.size()) flush();
    return buffer_.data() + used_ + 2;
  }
  void commit(size_t length) {
    uint8_t* p = buffer_.data() + used_;
    storeBe16(p, static_cast<uint16_t>(length));
    ++summary_.byType[p[2]];
    ++summary_.messages;
    summary_.bytes += 2 + length;
    used_ += 2 + length;
  }
  void finish() {
    flush();
    if (owned_) {
      owned_ = false;
      if (::close(fd_) != 0) fail("cannot write");
    }
  }
  GeneratorSummary& summary() noexcept { return summary_; }

 private:
  void flush() {
    size_t done = 0;
    while (done < used_) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, used_ - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("cannot write");
      done += static_cast<size_t>(n);
    }
    used_ = 0;
  }
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string(what) + " " + path_ + ": " + std::strerror(errno));
  }

  std::string path_;
  int fd_ = -1;
  bool owned_ = false;
  std::vector<uint8_t> buffer_;
  size_t used_ = 0;
  GeneratorSummary summary_;
};

struct Level {
  uint32_t head = kNone, tail = kNone;  // time priority: executions take the head
  uint32_t count = 0;
};
// Keyed so that begin() is the best level: ~price for bids, price for asks.
using Ladder = std::map<uint32_t, Level>;

enum : uint8_t { kBid = 0, kAsk = 1 };

struct Order {
  uint64_t ref;
  uint32_t ticks;
  uint32_t shares;
  uint32_t prev, next;  // within the level
  uint32_t livePos;     // index in its symbol's live list
  uint16_t locate;
  uint8_t side;
  Ladder::iterator level;
};

struct Symbol {
  std::string name;
  itch::StockDirectoryFields directory;
  uint32_t rank = 0;       // popularity, 0 = most active
  double targetShare = 0;  // of the live-order target
  int64_t fair = 0;        // reference price in ticks, random-walking
  uint32_t spread = 1;     // quoted spread it tends to, in ticks
  double stepsPerNs = 0;   // of the +-1 tick walk
  double pendingSteps = 0;
  uint64_t walkedTo = 0;
  std::vector<uint32_t> live;  // live orders, for picks by age (recent at the back)
  Ladder sides[2];

  int64_t fairBid() const noexcept { return fair - spread / 2; }
  int64_t fairAsk() const noexcept { return fairBid() + spread; }
};

uint32_t keyOf(uint8_t side, uint32_t ticks) noexcept { return side == kBid ? ~ticks : ticks; }
uint32_t ticksOf(uint8_t side, uint32_t key) noexcept { return side == kBid ? ~key : key; }

// Order flow per trading minute: most at the open, a lull at midday, a rise into the close.
double minuteWeight(uint32_t m) noexcept {
  return 0.75 + 3.0 / (1.0 + m / 8.0) + 2.5 / (1.0 + (kTradingMinutes - 1 - m) / 8.0);
}

class Clock {
 public:
  Clock(uint64_t events, uint64_t start) : t_(start) {
    double total = 0;
    for (uint32_t m = 0; m < kTradingMinutes; ++m) total += minuteWeight(m);
    double cumulative = 0;
    uint64_t assigned = 0;
    for (uint32_t m = 0; m < kTradingMinutes; ++m) {
      cumulative += minuteWeight(m);
      const uint64_t upTo =
          m + 1 == kTradingMinutes ? events : static_cast<uint64_t>(static_cast<double>(events) * cumulative / total);
      counts_[m] = upTo - assigned;
      assigned = upTo;
    }
  }

  uint64_t now() const noexcept { return t_; }

  uint64_t next(Rng& rng) noexcept {
    while (left_ == 0) {
      ++minute_;
      left_ = counts_[minute_];
      const uint64_t start = kMarketOpen + uint64_t{minute_} * 60 * kSecond;
      t_ = std::max(t_, start);
      end_ = start + 60 * kSecond - 1;
    }
    // Half the gaps are bursts of a few microseconds; the others spread what
    // is left of the minute evenly over the events left in it.
    const double mean = static_cast<double>(end_ - std::min(t_, end_)) / static_cast<double>(left_ + 1);
    const uint32_t burst = static_cast<uint32_t>(std::min(4'000.0, mean / 2));
    const uint32_t spread = static_cast<uint32_t>(std::clamp(4 * mean - burst, 1.0, 4.0e9));
    --left_;
    const uint64_t gap = rng.chance(0.5) ? rng.below(burst + 1) : rng.below(spread + 1);
    t_ = std::max(t_, std::min(t_ + gap, end_));
    return t_;
  }

 private:
  uint64_t counts_[kTradingMinutes];
  uint64_t t_;
  uint64_t end_ = 0;
  uint32_t minute_ = UINT32_MAX;
  uint64_t left_ = 0;
};

class Generator {
 public:
  Generator(const GeneratorOptions& options, Writer& out) : options_(options), rng_(options.seed), out_(out) {}

  void run() {
    const uint32_t k = options_.symbols;
    uint64_t frame = minimumMessages(k);
    imbalanceSymbols_ = static_cast<uint32_t>(std::min<uint64_t>(
        {k, static_cast<uint64_t>(static_cast<double>(options_.messages) * kImbalanceShareOfFile) / kImbalanceSeconds,
         (options_.messages - frame) / kImbalanceSeconds}));
    frame += uint64_t{imbalanceSymbols_} * kImbalanceSeconds;
    flowEvents_ = options_.messages - frame;
    liveTarget_ = std::min<double>(static_cast<double>(options_.messages) * kLiveOrdersPerMessage,
                                   static_cast<double>(k) * kMaxLivePerSymbol);

    makeSymbols();
    preOpen();
    orderFlow();
    close();
  }

  uint64_t peakLive() const noexcept { return peakLive_; }
  uint64_t live() const noexcept { return live_; }
  // 0 when the day has no orders.
  uint64_t firstRef() const noexcept { return nextRef_ == kFirstOrderRef ? 0 : kFirstOrderRef; }
  uint64_t lastRef() const noexcept { return nextRef_ == kFirstOrderRef ? 0 : nextRef_ - refStep_; }

 private:
  // --- the day's frame ---

  void makeSymbols() {
    const uint32_t k = options_.symbols;
    std::vector<std::string> names;
    std::unordered_set<std::string> taken;
    names.reserve(k);
    while (names.size() < k) {
      std::string name = drawName();
      if (taken.insert(name).second) names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());  // Nasdaq assigns locates alphabetically

    std::vector<uint32_t> ranks(k);
    for (uint32_t i = 0; i < k; ++i) ranks[i] = i;
    for (uint32_t i = k; i > 1; --i) std::swap(ranks[i - 1], ranks[rng_.below(i)]);

    std::vector<double> priceSteps(kPriceSteps);
    double p = 100.0;
    for (double& step : priceSteps) {
      step = p;
      p *= 1.001;
    }

    symbols_.resize(k + 1);
    byRank_.resize(k);
    cumulativeWeight_.resize(k);
    double weights = 0, shares = 0;
    for (uint32_t locate = 1; locate <= k; ++locate) {
      Symbol& s = symbols_[locate];
      s.name = std::move(names[locate - 1]);
      s.rank = ranks[locate - 1];
      byRank_[s.rank] = static_cast<uint16_t>(locate);
      // Zipf-Mandelbrot popularity; the live-order target is flatter (quiet stocks keep a book).
      const double w = 1.0 / (s.rank + 5.0);
      weights += w;
      cumulativeWeight_[locate - 1] = weights;
      s.targetShare = std::sqrt(w) * std::sqrt(std::sqrt(w));
      shares += s.targetShare;
      s.fair = static_cast<int64_t>(priceSteps[rng_.below(kPriceSteps)]);
      s.fair = std::max<int64_t>(s.fair + rng_.below(7) - 3, 100);
      s.spread = 1 + static_cast<uint32_t>(s.fair / 10'000) + (s.rank * 2 >= k) + 2 * (s.rank * 10 >= k * 9);
      const double sigma = kDailyVolatility * static_cast<double>(s.fair);
      s.stepsPerNs = sigma * sigma / static_cast<double>(kMarketClose - kMarketOpen);
      s.walkedTo = kMarketOpen;
      s.directory = directoryFor(s);
    }
    for (uint32_t locate = 1; locate <= k; ++locate) symbols_[locate].targetShare /= shares;
  }

  std::string drawName() {
    const uint32_t r = rng_.below(1000);
    const size_t length = r < 3 ? 1 : r < 40 ? 2 : r < 330 ? 3 : r < 880 ? 4 : r < 990 ? 5 : 6 + rng_.below(3);
    std::string name(length, 'A');
    for (char& c : name) c = static_cast<char>('A' + rng_.below(26));
    if (length == 5 && rng_.chance(0.7)) name[4] = "WURZ"[rng_.below(4)];  // warrant, unit, right, test or other
    return name;
  }

  itch::StockDirectoryFields directoryFor(const Symbol& s) {
    itch::StockDirectoryFields d;  // the stock is filled in when written
    const uint32_t r = rng_.below(100);
    if (s.name.size() <= 3) {
      d.marketCategory = r < 60 ? 'N' : r < 85 ? 'P' : r < 95 ? 'A' : 'Z';
    } else if (s.name.size() == 4) {
      d.marketCategory = r < 45 ? 'Q' : r < 70 ? 'G' : 'S';
    } else {
      d.marketCategory = r < 60 ? 'S' : r < 90 ? 'G' : 'P';
    }
    const bool nasdaqListed = d.marketCategory == 'Q' || d.marketCategory == 'G' || d.marketCategory == 'S';
    d.financialStatus = nasdaqListed ? (rng_.chance(0.03) ? 'D' : 'N') : ' ';
    d.ipoFlag = nasdaqListed ? 'N' : ' ';
    d.shortSaleThreshold = rng_.chance(0.01) ? 'Y' : 'N';
    d.luldReferencePriceTier = s.rank < 1000 ? '1' : '2';
    const char suffix = s.name.size() == 5 ? s.name[4] : ' ';
    if (suffix == 'W' || suffix == 'U' || suffix == 'R') {
      d.issueClassification = suffix;
    } else if (d.marketCategory == 'P' || rng_.chance(0.08)) {
      d.issueClassification = 'Q';
      d.issueSubtype = "I";
      d.etpFlag = 'Y';
      if (rng_.chance(0.1)) {
        d.etpLeverageFactor = 2 + rng_.below(2);
        d.inverseIndicator = rng_.chance(0.5) ? 'Y' : 'N';
      }
    } else {
      const uint32_t c = rng_.below(100);
      d.issueClassification = c < 85 ? 'C' : c < 95 ? 'A' : 'O';
    }
    return d;
  }

  void preOpen() {
    uint64_t t = kStartOfMessages + rng_.below(60'000'000);
    emitSystemEvent(t, 'O');
    t = kDirectoryStart + rng_.below(1'000'000);
    for (uint32_t locate = 1; locate <= options_.symbols; ++locate) {
      t += 5'000 + rng_.below(40'000);
      itch::StockDirectoryFields d = symbols_[locate].directory;
      d.stock = symbols_[locate].name;
      out_.commit(itch::encodeStockDirectory(out_.slot(), static_cast<uint16_t>(locate), tracking(), t, d));
    }
    for (uint32_t locate = 1; locate <= options_.symbols; ++locate) {
      t += 5'000 + rng_.below(40'000);
      out_.commit(itch::encodeStockTradingAction(out_.slot(), static_cast<uint16_t>(locate), tracking(), t,
                                                 symbols_[locate].name, 'T'));
    }
    emitSystemEvent(std::max(t + 1, kStartOfSystemHours + rng_.below(1'000'000)), 'S');
    ImbalanceCursor opening;
    startImbalances(opening, kOpeningImbalanceStart, kOpeningImbalanceSeconds, 'O');
    while (!opening.done()) emitImbalance(opening);
    t = kMarketOpen + 50'000 + rng_.below(50'000);
    emitSystemEvent(t, 'Q');
    for (uint32_t locate = 1; locate <= options_.symbols; ++locate) {
      t += 300 + rng_.below(2'000);
      cross(static_cast<uint16_t>(locate), t, 'O');
    }
    now_ = t;
  }

  void close() {
    while (!closing_.done()) emitImbalance(closing_);
    uint64_t t = std::max(now_, kMarketClose) + rng_.below(100'000);
    emitSystemEvent(t, 'M');
    t += 100'000;
    for (uint32_t locate = 1; locate <= options_.symbols; ++locate) {
      t += 300 + rng_.below(2'000);
      cross(static_cast<uint16_t>(locate), t, 'C');
    }
    emitSystemEvent(kEndOfSystemHours + rng_.below(1'000'000), 'E');
    emitSystemEvent(kEndOfMessages + rng_.below(1'000'000), 'C');
  }

  void emitSystemEvent(uint64_t t, char code) { out_.commit(itch::encodeSystemEvent(out_.slot(), 0, t, code)); }

  // Net order imbalance indications, one a second for each of the most active
  // symbols through the two minutes before the open and the ten before the close.
  struct ImbalanceCursor {
    uint64_t second = 0, seconds = 0;  // from `first`, of `seconds`
    uint64_t first = 0;
    uint32_t rank = 0;
    uint64_t t = 0;
    char crossType = 'O';
    bool done() const noexcept { return second == seconds; }
  };

  void startImbalances(ImbalanceCursor& c, uint64_t first, uint64_t seconds, char crossType) {
    c = ImbalanceCursor{0, imbalanceSymbols_ > 0 ? seconds : 0, first, 0, 0, crossType};
    if (!c.done()) startImbalanceSecond(c);
  }

  void startImbalanceSecond(ImbalanceCursor& c) {
    c.rank = 0;
    c.t = c.first + c.second * kSecond + rng_.below(1'000'000) + 1 + rng_.below(imbalanceSpacing());
  }

  uint32_t imbalanceSpacing() const noexcept {
    return static_cast<uint32_t>(std::min<uint64_t>(10'000, kSecond / (imbalanceSymbols_ + 1)));
  }

  void emitImbalance(ImbalanceCursor& c) {
    const uint16_t locate = locateByRank(c.rank);
    const Symbol& s = symbols_[locate];
    itch::NetOrderImbalanceFields f;
    f.stock = s.name;
    f.pairedShares = 100 * uint64_t{rng_.below(5'000)};
    f.imbalanceShares = rng_.chance(0.2) ? 0 : 100 * uint64_t{1 + rng_.below(2'000)};
    f.imbalanceDirection = f.imbalanceShares == 0 ? 'N' : rng_.chance(0.5) ? 'B' : 'S';
    const int64_t reference = s.fair;
    f.currentReferencePrice = static_cast<uint32_t>(reference) * kTick;
    if (f.pairedShares > 0) {
      f.nearPrice = static_cast<uint32_t>(reference + rng_.below(5) - 2) * kTick;
      f.farPrice = static_cast<uint32_t>(reference + rng_.below(9) - 4) * kTick;
    }
    f.crossType = c.crossType;
    const uint32_t v = rng_.below(100);
    f.priceVariationIndicator = v < 70 ? 'L' : v < 95 ? static_cast<char>('1' + rng_.below(3)) : ' ';
    out_.commit(itch::encodeNetOrderImbalance(out_.slot(), locate, tracking(), c.t, f));
    if (++c.rank < imbalanceSymbols_) {
      c.t += 1 + rng_.below(imbalanceSpacing());
    } else if (++c.second < c.seconds) {
      startImbalanceSecond(c);
    }
  }

  uint16_t locateByRank(uint32_t rank) const noexcept { return byRank_[rank]; }

  void cross(uint16_t locate, uint64_t t, char crossType) {
    const Symbol& s = symbols_[locate];
    const double activity = 2'000.0 / (s.rank + 5.0);
    const bool none = rng_.chance(0.25 + 0.5 * s.rank / static_cast<double>(options_.symbols));
    const uint64_t shares = none ? 0 : 100 * (1 + static_cast<uint64_t>(activity * 100 * rng_.uniform()));
    const uint32_t price = shares == 0 ? 0 : static_cast<uint32_t>(s.fair) * kTick;
    out_.commit(itch::encodeCrossTrade(out_.slot(), locate, tracking(), t, shares, s.name, price, match(), crossType));
  }

  // --- order flow ---

  void orderFlow() {
    Clock clock(flowEvents_, now_);
    startImbalances(closing_, kClosingImbalanceStart, kClosingImbalanceSeconds, 'C');
    for (uint64_t i = 0; i < flowEvents_; ++i) {
      const uint64_t t = clock.next(rng_);  // a sweep keeps its time but uses up its event's share of the minute
      if (sweepLeft_ == 0) now_ = t;
      while (!closing_.done() && closing_.t <= now_) emitImbalance(closing_);
      const double ramp = std::min(1.0, static_cast<double>(i) / (kRampShareOfFlow * static_cast<double>(flowEvents_)));
      target_ = liveTarget_ * ramp;
      if (sweepLeft_ > 0) {
        continueSweep();
        continue;
      }
      const uint16_t locate = pickSymbol();
      walk(symbols_[locate]);
      double r = rng_.uniform();
      if ((r -= kReplaceShare) < 0) {
        replace(locate);
      } else if ((r -= kCancelShare) < 0) {
        cancel(locate);
      } else if ((r -= kExecuteShare) < 0) {
        execute(locate, false);
      } else if ((r -= kExecuteWithPriceShare) < 0) {
        execute(locate, true);
      } else if ((r -= kTradeShare) < 0) {
        hiddenTrade(locate);
      } else if ((r -= kRetailInterestShare) < 0) {
        retailInterest(locate);
      } else {
        addOrDelete(locate);
      }
    }
  }

  uint16_t pickSymbol() {
    const double u = rng_.uniform() * cumulativeWeight_.back();
    const auto it = std::upper_bound(cumulativeWeight_.begin(), cumulativeWeight_.end(), u);
    return static_cast<uint16_t>(std::min<size_t>(it - cumulativeWeight_.begin(), cumulativeWeight_.size() - 1) + 1);
  }

  void walk(Symbol& s) {
    s.pendingSteps += s.stepsPerNs * static_cast<double>(now_ - s.walkedTo);
    s.walkedTo = now_;
    if (s.pendingSteps < 1) return;
    const uint64_t steps = static_cast<uint64_t>(s.pendingSteps);
    s.pendingSteps -= static_cast<double>(steps);
    s.fair += rng_.walk(steps);
    const int64_t floor = 100 + s.spread;
    if (s.fair < floor) s.fair = 2 * floor - s.fair;
  }

  void addOrDelete(uint16_t locate) {
    Symbol& s = symbols_[locate];
    const double target = std::max(2.0, target_ * s.targetShare);
    const double live = static_cast<double>(s.live.size());
    const double pAdd = std::clamp(0.5 + 0.6 * (target - live) / std::max(target, 4.0), 0.05, 0.97);
    if (s.live.empty() || rng_.chance(pAdd)) {
      add(locate);
      return;
    }
    const uint32_t o = pickToCancel(s);
    const Order& order = orders_[o];
    out_.commit(itch::encodeOrderDelete(out_.slot(), locate, tracking(), now_, order.ref));
    removeOrder(o);
  }

  void add(uint16_t locate) {
    Symbol& s = symbols_[locate];
    uint8_t side = rng_.chance(0.5) ? kBid : kAsk;
    uint32_t ticks = placePrice(s, side, false);
    if (ticks == 0) {
      side ^= 1;
      ticks = placePrice(s, side, false);
    }
    const uint32_t shares = drawShares(s);
    const uint64_t ref = newRef();
    const char sideChar = side == kBid ? 'B' : 'S';
    if (rng_.chance(kMpidShareOfAdds)) {
      const std::string_view mpid = kMpids[rng_.below(std::size(kMpids))];
      out_.commit(itch::encodeAddOrderMpid(out_.slot(), locate, tracking(), now_, ref, sideChar, shares, s.name,
                                           ticks * kTick, mpid));
    } else {
      out_.commit(
          itch::encodeAddOrder(out_.slot(), locate, tracking(), now_, ref, sideChar, shares, s.name, ticks * kTick));
    }
    insertOrder(locate, side, ticks, shares, ref);
  }

  void replace(uint16_t locate) {
    Symbol& s = symbols_[locate];
    if (s.live.empty()) {
      add(locate);
      return;
    }
    const uint32_t o = pickToCancel(s);
    const Order old = orders_[o];
    removeOrder(o);  // first, so that the new price may take the old one's place at the touch
    uint32_t ticks = 0;
    if (rng_.chance(0.4)) {
      const int64_t moved = int64_t{old.ticks} + (rng_.chance(0.5) ? 1 : -1);
      if (moved >= 1 && moved <= kMaxTicks && !crosses(s, old.side, static_cast<uint32_t>(moved)))
        ticks = static_cast<uint32_t>(moved);
    }
    if (ticks == 0) ticks = placePrice(s, old.side, true);
    if (ticks == 0) ticks = old.ticks;  // still uncrossed: the old order was where it stood
    const uint32_t shares = rng_.chance(0.75) ? old.shares : drawShares(s);
    const uint64_t ref = newRef();
    out_.commit(itch::encodeOrderReplace(out_.slot(), locate, tracking(), now_, old.ref, ref, shares, ticks * kTick));
    insertOrder(locate, old.side, ticks, shares, ref);
  }

  void cancel(uint16_t locate) {
    Symbol& s = symbols_[locate];
    if (s.live.empty()) {
      add(locate);
      return;
    }
    uint32_t o = pickToCancel(s);
    for (int tries = 0; tries < 3 && orders_[o].shares < 2; ++tries) o = pickToCancel(s);
    Order& order = orders_[o];
    if (order.shares < 2) {
      out_.commit(itch::encodeOrderDelete(out_.slot(), locate, tracking(), now_, order.ref));
      removeOrder(o);
      return;
    }
    const uint32_t canceled = partOf(order.shares);
    out_.commit(itch::encodeOrderCancel(out_.slot(), locate, tracking(), now_, order.ref, canceled));
    order.shares -= canceled;
  }

  void execute(uint16_t locate, bool withPrice) {
    Symbol& s = symbols_[locate];
    if (s.live.empty()) {
      add(locate);
      return;
    }
    uint8_t side;
    const bool bidStale = !s.sides[kBid].empty() && bestTicks(s, kBid) > s.fairBid();
    const bool askStale = !s.sides[kAsk].empty() && bestTicks(s, kAsk) < s.fairAsk();
    // Aggressors take the quotes that the reference price has left behind.
    if (bidStale && !askStale)
      side = rng_.chance(0.85) ? kBid : kAsk;
    else if (askStale && !bidStale)
      side = rng_.chance(0.85) ? kAsk : kBid;
    else
      side = rng_.chance(0.5) ? kBid : kAsk;
    if (s.sides[side].empty()) side ^= 1;
    const uint32_t o = s.sides[side].begin()->second.head;
    const bool filled = executeOrder(o, withPrice);
    if (filled && !withPrice && !s.sides[side].empty() && rng_.chance(0.3)) {
      sweepLocate_ = locate;
      sweepSide_ = side;
      sweepLeft_ = 1 + rng_.geometric(0.5, 6);
    }
  }

  // An aggressive order taking the next orders of the same side, at the same time.
  void continueSweep() {
    --sweepLeft_;
    Symbol& s = symbols_[sweepLocate_];
    if (s.sides[sweepSide_].empty()) {
      sweepLeft_ = 0;
      add(sweepLocate_);
      return;
    }
    if (!executeOrder(s.sides[sweepSide_].begin()->second.head, false) || s.sides[sweepSide_].empty()) sweepLeft_ = 0;
  }

  // True when the order is gone.
  bool executeOrder(uint32_t o, bool withPrice) {
    Order& order = orders_[o];
    const uint32_t shares = order.shares < 2 || rng_.chance(0.6) ? order.shares : partOf(order.shares);
    if (withPrice) {
      // At a price no worse for the resting order than its own: a cross, or a sub-penny improvement.
      const bool printable = rng_.chance(0.8);
      const uint32_t improvement = printable ? kTick / 2 : kTick * rng_.below(3);
      const uint32_t price = order.side == kBid ? order.ticks * kTick - improvement : order.ticks * kTick + improvement;
      out_.commit(itch::encodeOrderExecutedWithPrice(out_.slot(), order.locate, tracking(), now_, order.ref, shares,
                                                     match(), printable ? 'Y' : 'N', price));
    } else {
      out_.commit(itch::encodeOrderExecuted(out_.slot(), order.locate, tracking(), now_, order.ref, shares, match()));
    }
    if (shares < order.shares) {
      order.shares -= shares;
      return false;
    }
    removeOrder(o);
    return true;
  }

  // A print against non-displayed interest: at the midpoint or at the touch.
  void hiddenTrade(uint16_t locate) {
    const Symbol& s = symbols_[locate];
    const bool bid = !s.sides[kBid].empty(), ask = !s.sides[kAsk].empty();
    uint32_t price = static_cast<uint32_t>(s.fair) * kTick;
    if (bid && ask) {
      const uint32_t b = bestTicks(s, kBid) * kTick, a = bestTicks(s, kAsk) * kTick;
      const uint32_t r = rng_.below(10);
      price = r < 6 ? (a + b) / 2 : r < 8 ? b : a;
    }
    const uint32_t shares = rng_.chance(0.4) ? 1 + rng_.below(99) : drawShares(s);
    out_.commit(itch::encodeTrade(out_.slot(), locate, tracking(), now_, 0, 'B', shares, s.name, price, match()));
  }

  void retailInterest(uint16_t locate) {
    out_.commit(itch::encodeRetailInterest(out_.slot(), locate, tracking(), now_, symbols_[locate].name,
                                           "BSAN"[rng_.below(4)]));
  }

  // --- prices, sizes, picks ---

  uint32_t bestTicks(const Symbol& s, uint8_t side) const { return ticksOf(side, s.sides[side].begin()->first); }

  bool crosses(const Symbol& s, uint8_t side, uint32_t ticks) const {
    const uint8_t other = side ^ 1;
    if (s.sides[other].empty()) return false;
    const uint32_t best = bestTicks(s, other);
    return side == kBid ? ticks >= best : ticks <= best;
  }

  // Around the side's quote that the reference price implies, never at or
  // through the other side's best; 0 when there is no room (a bid under a 1-tick ask).
  uint32_t placePrice(const Symbol& s, uint8_t side, bool nearOnly) {
    uint32_t depth = 0;
    const uint32_t r = rng_.below(100);
    if (r >= 38) depth = 1 + rng_.geometric(0.4, 30);
    if (r >= 93 && !nearOnly) depth = 5 + rng_.below(static_cast<uint32_t>(std::clamp<int64_t>(s.fair / 8, 10, 2'000)));
    if (side == kBid) {
      int64_t anchor = s.fairBid();
      if (!s.sides[kAsk].empty()) anchor = std::min<int64_t>(anchor, int64_t{bestTicks(s, kAsk)} - 1);
      if (anchor < 1) return 0;
      return static_cast<uint32_t>(std::max<int64_t>(1, anchor - depth));
    }
    int64_t anchor = s.fairAsk();
    if (!s.sides[kBid].empty()) anchor = std::max<int64_t>(anchor, int64_t{bestTicks(s, kBid)} + 1);
    if (anchor > kMaxTicks) return 0;
    return static_cast<uint32_t>(std::min<int64_t>(kMaxTicks, anchor + depth));
  }

  uint32_t drawShares(const Symbol& s) {
    if (s.fair > 20'000 && rng_.chance(0.2)) return 1 + rng_.below(99);
    const uint32_t r = rng_.below(1000);
    if (r < 90) return 1 + rng_.below(99);
    if (r < 520) return 100;
    if (r < 680) return 200;
    if (r < 760) return 300;
    if (r < 800) return 400;
    if (r < 880) return 500;
    if (r < 920) return 1'000;
    if (r < 960) return 100 * (6 + rng_.below(15));
    if (r < 985) return 100 * (20 + rng_.below(80));
    return 100 * (1 + rng_.below(10)) + 1 + rng_.below(99);
  }

  // Fewer shares than `open` (>= 2): whole lots when the order has several.
  uint32_t partOf(uint32_t open) {
    if (open >= 200 && open % 100 == 0) return 100 * (1 + rng_.below(open / 100 - 1));
    return 1 + rng_.below(open - 1);
  }

  // Most cancels hit orders added moments ago; some hit old ones, and market
  // makers pull quotes that the reference price has left behind.
  uint32_t pickToCancel(const Symbol& s) {
    if (rng_.chance(0.3)) {
      if (!s.sides[kBid].empty() && bestTicks(s, kBid) > s.fairBid()) return s.sides[kBid].begin()->second.tail;
      if (!s.sides[kAsk].empty() && bestTicks(s, kAsk) < s.fairAsk()) return s.sides[kAsk].begin()->second.tail;
    }
    const uint32_t n = static_cast<uint32_t>(s.live.size());
    if (rng_.chance(0.8)) return s.live[n - 1 - rng_.geometric(0.25, n - 1)];
    return s.live[rng_.below(n)];
  }

  // --- the generator's own book ---

  void insertOrder(uint16_t locate, uint8_t side, uint32_t ticks, uint32_t shares, uint64_t ref) {
    uint32_t o;
    if (!free_.empty()) {
      o = free_.back();
      free_.pop_back();
    } else {
      o = static_cast<uint32_t>(orders_.size());
      orders_.emplace_back();
    }
    Symbol& s = symbols_[locate];
    const auto level = s.sides[side].try_emplace(keyOf(side, ticks)).first;
    Level& l = level->second;
    orders_[o] = Order{ref, ticks, shares, l.tail, kNone, static_cast<uint32_t>(s.live.size()), locate, side, level};
    if (l.tail != kNone)
      orders_[l.tail].next = o;
    else
      l.head = o;
    l.tail = o;
    ++l.count;
    s.live.push_back(o);
    peakLive_ = std::max(peakLive_, ++live_);
  }

  void removeOrder(uint32_t o) {
    const Order& order = orders_[o];
    Symbol& s = symbols_[order.locate];
    Level& l = order.level->second;
    (order.prev != kNone ? orders_[order.prev].next : l.head) = order.next;
    (order.next != kNone ? orders_[order.next].prev : l.tail) = order.prev;
    if (--l.count == 0) s.sides[order.side].erase(order.level);
    const uint32_t last = s.live.back();
    s.live[order.livePos] = last;
    orders_[last].livePos = order.livePos;
    s.live.pop_back();
    free_.push_back(o);
    --live_;
  }

  uint64_t newRef() {
    const uint64_t ref = nextRef_;
    // References skipped stand for orders that never show (non-displayed).
    refStep_ = rng_.chance(0.9) ? 4 : 4 * (2 + rng_.below(3));
    nextRef_ += refStep_;
    return ref;
  }

  uint64_t match() {
    const uint64_t m = nextMatch_;
    nextMatch_ += rng_.chance(0.95) ? 1 : 2 + rng_.below(3);
    return m;
  }

  uint16_t tracking() {
    const uint32_t r = rng_.below(100);
    return r < 87 ? 0 : r < 95 ? 1 : 2;
  }

  const GeneratorOptions& options_;
  Rng rng_;
  Writer& out_;
  std::vector<Symbol> symbols_;  // by locate; 0 unused
  std::vector<double> cumulativeWeight_;
  std::vector<uint16_t> byRank_;
  std::vector<Order> orders_;
  std::vector<uint32_t> free_;
  uint32_t imbalanceSymbols_ = 0;
  ImbalanceCursor closing_;
  uint64_t flowEvents_ = 0;
  double liveTarget_ = 0, target_ = 0;
  uint64_t now_ = 0;
  uint64_t nextRef_ = kFirstOrderRef, refStep_ = 4;
  uint64_t nextMatch_ = kFirstMatchNumber;
  uint64_t live_ = 0, peakLive_ = 0;
  uint16_t sweepLocate_ = 0;
  uint8_t sweepSide_ = kBid;
  uint32_t sweepLeft_ = 0;
};

}  // namespace

uint64_t minimumMessages(uint32_t symbols) noexcept {
  // S O, S S, S Q; R, H, opening and closing cross per symbol; S M, S E, S C.
  return 6 + 4 * uint64_t{symbols};
}

GeneratorSummary generate(const GeneratorOptions& options, const std::string& path) {
  if (options.symbols < 1 || options.symbols > 65'000)
    throw std::invalid_argument("symbols must be from 1 to 65000, not " + std::to_string(options.symbols));
  if (options.messages < minimumMessages(options.symbols))
    throw std::invalid_argument("messages " + std::to_string(options.messages) + " cannot hold a day of " +
                                std::to_string(options.symbols) + " symbols: at least " +
                                std::to_string(minimumMessages(options.symbols)) + " needed");
  Writer out(path);
  Generator g(options, out);
  g.run();
  out.finish();
  GeneratorSummary summary = out.summary();
  summary.symbols = options.symbols;
  summary.peakLiveOrders = g.peakLive();
  summary.finalLiveOrders = g.live();
  summary.firstOrderRef = g.firstRef();
  summary.lastOrderRef = g.lastRef();
  return summary;
}

std::string describe(const GeneratorSummary& s) {
  std::string text;
  char line[200];
  std::snprintf(line, sizeof line, "%llu messages, %llu bytes, %u symbols\n",
                static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.bytes), s.symbols);
  text += line;
  text += "by type:";
  for (const itch::MessageLayout& m : itch::kLayouts) {
    const uint64_t n = s.byType[static_cast<uint8_t>(m.type)];
    if (n == 0) continue;
    std::snprintf(line, sizeof line, " %c %llu (%.2f%%)", m.type, static_cast<unsigned long long>(n),
                  s.messages > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(s.messages) : 0.0);
    text += line;
  }
  std::snprintf(line, sizeof line, "\nlive orders: peak %llu, at end %llu; order references %llu to %llu\n",
                static_cast<unsigned long long>(s.peakLiveOrders), static_cast<unsigned long long>(s.finalLiveOrders),
                static_cast<unsigned long long>(s.firstOrderRef), static_cast<unsigned long long>(s.lastOrderRef));
  if (s.lastOrderRef == 0) std::snprintf(line, sizeof line, "\nno orders: the messages only hold the day's frame\n");
  text += line;
  return text;
}

}  // namespace fh::sim
