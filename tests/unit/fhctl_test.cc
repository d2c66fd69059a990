// The built fhctl binary, run as a user would: `decode --format jsonl`
// against spec/decode-jsonl.md on every real capture, `book --json`, and the
// errors (missing file, directory, truncated captures, bad options), which
// must end in a non-zero exit and a message naming the file or option, never
// in a signal.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "process.h"
#include "testdata.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

using fh::test::Run;
using fh::test::TempDir;

std::string readAll(const fs::path& path) { return fh::test::readFile(path); }

void writeAll(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Runs fhctl with `args`, stdin from /dev/null, stdout and stderr to files.
Run fhctl(const std::vector<std::string>& args) { return fh::test::run("fhctl", args); }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// --- a minimal, strict JSON reader (RFC 8259 grammar; strings must be
// printable ASCII or escapes, as spec/decode-jsonl.md demands) -------------

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  std::string text;  // a number as written, or a string's decoded value
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;  // in order

  bool isInteger() const { return kind == Number && text.find_first_of(".eE-") == std::string::npos; }
  const Json* find(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  // The whole input as one value; false (with a reason) if it is not JSON.
  bool parse(Json& out, std::string& error) {
    if (!value(out) || (skipSpace(), pos_ != s_.size())) {
      error = error_.empty() ? "trailing characters at " + std::to_string(pos_) : error_;
      return false;
    }
    return true;
  }

 private:
  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why + " at offset " + std::to_string(pos_);
    return false;
  }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("bad literal");
    pos_ += word.size();
    return true;
  }
  bool value(Json& v) {
    skipSpace();
    if (pos_ >= s_.size()) return fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return object(v);
    if (c == '[') return array(v);
    if (c == '"') {
      v.kind = Json::String;
      return string(v.text);
    }
    if (c == 't' || c == 'f') {
      v.kind = Json::Bool;
      v.text = c == 't' ? "true" : "false";
      return literal(v.text);
    }
    if (c == 'n') return literal("null");
    return number(v);
  }
  bool digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool number(Json& v) {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return fail("not a value");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits()) return fail("no digits after the decimal point");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("no exponent digits");
    }
    v.kind = Json::Number;
    v.text = std::string(s_.substr(start, pos_ - start));
    return true;
  }
  bool string(std::string& out) {
    ++pos_;  // the opening quote
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20 || c > 0x7E) return fail("raw byte outside printable ASCII in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= s_.size()) return fail("unfinished escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return fail("short \\u escape");
          unsigned code = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = s_[pos_++];
            code <<= 4;
            if (h >= '0' && h <= '9')
              code |= unsigned(h - '0');
            else if (h >= 'a' && h <= 'f')
              code |= unsigned(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              code |= unsigned(h - 'A' + 10);
            else
              return fail("bad hex digit in \\u escape");
          }
          if (code > 0xFF) return fail("\\u escape beyond one byte");  // never needed here
          out += static_cast<char>(code);
          break;
        }
        default:
          return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }
  bool array(Json& v) {
    v.kind = Json::Array;
    ++pos_;
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
    for (;;) {
      Json item;
      if (!value(item)) return false;
      v.items.push_back(std::move(item));
      skipSpace();
      if (pos_ >= s_.size()) return fail("unterminated array");
      const char c = s_[pos_++];
      if (c == ']') return true;
      if (c != ',') return fail("expected , or ]");
    }
  }
  bool object(Json& v) {
    v.kind = Json::Object;
    ++pos_;
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
    for (;;) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a key");
      std::string key;
      if (!string(key)) return false;
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_++] != ':') return fail("expected :");
      Json item;
      if (!value(item)) return false;
      v.members.emplace_back(std::move(key), std::move(item));
      skipSpace();
      if (pos_ >= s_.size()) return fail("unterminated object");
      const char c = s_[pos_++];
      if (c == '}') return true;
      if (c != ',') return fail("expected , or }");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

Json parseJson(const std::string& line) {
  Json v;
  std::string error;
  INFO("line: " << line);
  if (!JsonReader(line).parse(v, error)) FAIL("not JSON: " << error);
  return v;
}

// --- spec/decode-jsonl.md, transcribed ------------------------------------

const std::vector<std::string> kCommonKeys = {"type", "locate", "tracking", "timestamp"};

const std::map<char, std::vector<std::string>> kKeysByType = {
    {'S', {"event_code"}},
    {'R',
     {"stock", "market_category", "financial_status", "round_lot_size", "round_lots_only", "issue_classification",
      "issue_subtype", "authenticity", "short_sale_threshold", "ipo_flag", "luld_reference_price_tier", "etp_flag",
      "etp_leverage_factor", "inverse_indicator"}},
    {'H', {"stock", "trading_state", "reserved", "reason"}},
    {'Y', {"stock", "reg_sho_action"}},
    {'L', {"mpid", "stock", "primary_market_maker", "market_maker_mode", "market_participant_state"}},
    {'V', {"level1", "level2", "level3"}},
    {'W', {"breached_level"}},
    {'K', {"stock", "ipo_quotation_release_time", "ipo_quotation_release_qualifier", "ipo_price"}},
    {'J',
     {"stock", "auction_collar_reference_price", "upper_auction_collar_price", "lower_auction_collar_price",
      "auction_collar_extension"}},
    {'h', {"stock", "market_code", "operational_halt_action"}},
    {'A', {"order_ref", "side", "shares", "stock", "price"}},
    {'F', {"order_ref", "side", "shares", "stock", "price", "attribution"}},
    {'E', {"order_ref", "executed_shares", "match_number"}},
    {'C', {"order_ref", "executed_shares", "match_number", "printable", "execution_price"}},
    {'X', {"order_ref", "canceled_shares"}},
    {'D', {"order_ref"}},
    {'U', {"original_order_ref", "new_order_ref", "shares", "price"}},
    {'P', {"order_ref", "side", "shares", "stock", "price", "match_number"}},
    {'Q', {"shares", "stock", "cross_price", "match_number", "cross_type"}},
    {'B', {"match_number"}},
    {'I',
     {"paired_shares", "imbalance_shares", "imbalance_direction", "stock", "far_price", "near_price",
      "current_reference_price", "cross_type", "price_variation_indicator"}},
    {'N', {"stock", "interest_flag"}},
    {'O',
     {"stock", "open_eligibility_status", "minimum_allowable_price", "maximum_allowable_price", "near_execution_price",
      "near_execution_time", "lower_price_range_collar", "upper_price_range_collar"}},
};

// Alpha fields of the ITCH spec: strings in JSON. Of two or more bytes:
const std::set<std::string> kWideAlpha = {"session", "stock", "issue_subtype", "reason", "mpid", "attribution"};
// Of one byte (one-character strings, a space kept):
const std::set<std::string> kOneByteAlpha = {"type",
                                             "event_code",
                                             "market_category",
                                             "financial_status",
                                             "round_lots_only",
                                             "issue_classification",
                                             "authenticity",
                                             "short_sale_threshold",
                                             "ipo_flag",
                                             "luld_reference_price_tier",
                                             "etp_flag",
                                             "inverse_indicator",
                                             "trading_state",
                                             "reserved",
                                             "reg_sho_action",
                                             "primary_market_maker",
                                             "market_maker_mode",
                                             "market_participant_state",
                                             "breached_level",
                                             "ipo_quotation_release_qualifier",
                                             "market_code",
                                             "operational_halt_action",
                                             "side",
                                             "printable",
                                             "cross_type",
                                             "imbalance_direction",
                                             "price_variation_indicator",
                                             "interest_flag",
                                             "open_eligibility_status"};

// The two example lines of spec/decode-jsonl.md, verbatim.
const std::string kSpecExampleElk =
    R"({"seq":484312000,"session":"000007525B","type":"A","locate":7506,"tracking":0,"timestamp":60631522361505,"order_ref":436925884,"side":"S","shares":400,"stock":"TVIX","price":257600})";
const std::string kSpecExampleSnippet =
    R"({"seq":1,"type":"D","locate":3041,"tracking":0,"timestamp":34200000000230,"order_ref":4851694})";

// Messages in each capture (the same independent Python parse as
// testdata_test.cc; every file must be listed).
const std::map<std::string, size_t> kMessages = {
    {"12302019_SNIPPET.NASDAQ_ITCH50", 1000},
    {"bx_sample_20191230.NASDAQ_ITCH50", 12012},
    {"elk_nasdaq.pcap", 2232},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__AddOrderMpidAttributionMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMpidAttributionMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__NonCrossTradeMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderCancelMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderDeleteMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedWithPriceMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderReplaceMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__RegShoShortSalePriceTestRestrictedIndicatorMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__RetailInterestMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__StockTradingActionMessage.pcap", 5},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__SystemEventMessage.pcap", 1},
    {"omi/Bx.Equities.TotalView.Itch.v5.0__AddOrderNoMpidAttributionMessage.pcap", 1},
    {"omi/Bx.Equities.TotalView.Itch.v5.0__OrderDeleteMessage.pcap", 1},
    {"omi/Bx.Equities.TotalView.Itch.v5.0__OrderReplaceMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMPID.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__AddOrderWithMPID.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__CrossTrade.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__LULDAuctionCollar.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__MarketParticipantPosition.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__NetOrderImbalanceIndicator.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__NonCrossTrade.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderCancel.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderDelete.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderExecuted.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedWithPrice.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderReplace.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__RegSHORestriction.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__StockTradingAction.pcap", 5},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__SystemEvent.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__AddOrderNoMpidAttributionMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__MarketParticipantPositionMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap", 39},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__NetOrderImbalanceIndicatorMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__OrderDeleteMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__OrderExecutedMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__OrderReplaceMessage.pcap", 1},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__StockTradingActionMessage.pcap", 1},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMpidAttributionMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__AddOrderWithMpidAttributionMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderCancelMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderDeleteMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedWithPriceMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderReplaceMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__RegShoShortSalePriceTestRestrictedIndicatorMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__StockTradingActionMessage.pcap", 5},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__SystemEventMessage.pcap", 1},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__TradeMessageNon-cross.pcap", 5},
};

// One line of `decode --format jsonl` against the spec: exactly its keys, in
// its order, each with the right JSON type. Returns the type character.
char checkJsonlLine(const std::string& line, bool fromPacket) {
  INFO("line: " << line);
  const Json v = parseJson(line);
  REQUIRE(v.kind == Json::Object);
  const Json* type = v.find("type");
  REQUIRE(type != nullptr);
  REQUIRE(type->kind == Json::String);
  REQUIRE(type->text.size() == 1);
  const auto fields = kKeysByType.find(type->text[0]);
  REQUIRE(fields != kKeysByType.end());

  std::vector<std::string> expected{"seq"};
  if (fromPacket) expected.push_back("session");
  expected.insert(expected.end(), kCommonKeys.begin(), kCommonKeys.end());
  expected.insert(expected.end(), fields->second.begin(), fields->second.end());
  std::vector<std::string> keys;
  for (const auto& [key, value] : v.members) keys.push_back(key);
  REQUIRE(keys == expected);

  for (const auto& [key, value] : v.members) {
    INFO("key " << key);
    if (kWideAlpha.count(key) != 0) {
      REQUIRE(value.kind == Json::String);
      CHECK(value.text.size() <= (key == "session" ? 10u : 8u));
      CHECK((value.text.empty() || value.text.back() != ' '));  // trailing spaces removed
    } else if (kOneByteAlpha.count(key) != 0) {
      REQUIRE(value.kind == Json::String);
      CHECK(value.text.size() == 1);
    } else {
      REQUIRE(value.isInteger());
      CHECK((value.text == "0" || value.text[0] != '0'));
    }
  }
  return type->text[0];
}

// A Price(4) decimal as printed by `book` ("21.29", "213.8", "0.0001") in 1e-4 units.
uint64_t price4(const Json& v) {
  REQUIRE(v.kind == Json::Number);
  REQUIRE(v.text.find_first_of("-eE") == std::string::npos);
  const size_t dot = v.text.find('.');
  std::string whole = v.text.substr(0, dot), fraction = dot == std::string::npos ? "" : v.text.substr(dot + 1);
  REQUIRE(fraction.size() <= 4);
  fraction.resize(4, '0');
  return std::stoull(whole) * 10'000 + std::stoull(fraction);
}

struct Level {
  uint64_t price, shares, orders;
  bool operator==(const Level&) const = default;
};

struct BookLine {
  std::string symbol;
  uint64_t locate;
  std::vector<Level> bids, asks;
};

// One line of `book --json`: {"symbol":S,"locate":N,"bids":[[p,s,o]...],"asks":[...]},
// bids best (highest) first, asks best (lowest) first.
BookLine checkBookLine(const std::string& line) {
  INFO("line: " << line);
  const Json v = parseJson(line);
  REQUIRE(v.kind == Json::Object);
  std::vector<std::string> keys;
  for (const auto& [key, value] : v.members) keys.push_back(key);
  REQUIRE(keys == std::vector<std::string>{"symbol", "locate", "bids", "asks"});
  BookLine b;
  REQUIRE(v.members[0].second.kind == Json::String);
  b.symbol = v.members[0].second.text;
  CHECK_FALSE(b.symbol.empty());
  REQUIRE(v.members[1].second.isInteger());
  b.locate = std::stoull(v.members[1].second.text);
  CHECK(b.locate >= 1);
  CHECK(b.locate <= 65535);
  for (int s = 0; s < 2; ++s) {
    const Json& side = v.members[2 + s].second;
    REQUIRE(side.kind == Json::Array);
    std::vector<Level>& out = s == 0 ? b.bids : b.asks;
    for (const Json& level : side.items) {
      REQUIRE(level.kind == Json::Array);
      REQUIRE(level.items.size() == 3);
      REQUIRE(level.items[1].isInteger());
      REQUIRE(level.items[2].isInteger());
      out.push_back({price4(level.items[0]), std::stoull(level.items[1].text), std::stoull(level.items[2].text)});
      CHECK(out.back().shares > 0);
      CHECK(out.back().orders > 0);
    }
    for (size_t i = 1; i < out.size(); ++i) {
      if (s == 0) CHECK(out[i].price < out[i - 1].price);
      if (s == 1) CHECK(out[i].price > out[i - 1].price);
    }
  }
  return b;
}

size_t countContaining(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (const std::string& line : lines(text)) n += line.find(needle) != std::string::npos;
  return n;
}

// Files of the test data directory, relative to it, captures only.
std::vector<std::string> captures() {
  const fs::path root = fh::test::testdata("");
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const std::string relative = e.path().lexically_relative(root).generic_string();
    if (relative != "README.md" && relative != "SHA256SUMS") out.push_back(relative);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool isPcap(const std::string& relative) { return relative.size() > 5 && relative.ends_with(".pcap"); }

}  // namespace

TEST_CASE("fhctl: decode of elk_nasdaq.pcap matches the spec's example", "[fhctl]") {
  const Run r = fhctl({"decode", "--format", "jsonl", fh::test::testdata("elk_nasdaq.pcap")});
  REQUIRE(r.exited);
  CHECK(r.exitCode == 0);
  const std::vector<std::string> out = lines(r.out);
  CHECK(out.size() == 2232);
  CHECK((!r.out.empty() && r.out.back() == '\n'));
  size_t found = 0;
  for (const std::string& line : out)
    if (line.starts_with(R"({"seq":484312000,)")) {
      ++found;
      CHECK(line == kSpecExampleElk);
    }
  CHECK(found == 1);
  // First and last messages, decoded by hand from the hex dump (testdata_test.cc).
  REQUIRE_FALSE(out.empty());
  CHECK(
      out.front() ==
      R"({"seq":484311999,"session":"000007525B","type":"A","locate":8164,"tracking":0,"timestamp":60631522337160,"order_ref":436925880,"side":"B","shares":700,"stock":"XIV","price":324400})");
  CHECK(
      out.back() ==
      R"({"seq":484314230,"session":"000007525B","type":"D","locate":5269,"tracking":0,"timestamp":60660055397633,"order_ref":409045359})");
}

TEST_CASE("fhctl: decode of the snippet starts with the spec's second example", "[fhctl]") {
  const Run r = fhctl({"decode", "--format", "jsonl", fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50")});
  REQUIRE(r.exited);
  CHECK(r.exitCode == 0);
  CHECK(r.err.empty());
  const std::vector<std::string> out = lines(r.out);
  REQUIRE(out.size() == 1000);
  CHECK(out[0] == kSpecExampleSnippet);
  // Records 5 (U) and 308 (C), from the hex dump (testdata_test.cc).
  CHECK(
      out[4] ==
      R"({"seq":5,"type":"U","locate":4436,"tracking":0,"timestamp":34200000091476,"original_order_ref":5588594,"new_order_ref":5676634,"shares":1000,"price":1865100})");
  CHECK(
      out[307] ==
      R"({"seq":308,"type":"C","locate":3672,"tracking":1,"timestamp":34200000995068,"order_ref":5674522,"executed_shares":54,"match_number":53496,"printable":"N","execution_price":404300})");

  // jsonl is the default format.
  const Run byDefault = fhctl({"decode", fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50")});
  REQUIRE(byDefault.exited);
  CHECK(byDefault.exitCode == 0);
  CHECK(byDefault.out == r.out);
}

TEST_CASE("fhctl: decode of the BX sample and a zeroed-header pcap, spot lines", "[fhctl]") {
  const Run bx = fhctl({"decode", fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50")});
  REQUIRE(bx.exited);
  CHECK(bx.exitCode == 0);
  const std::vector<std::string> bxLines = lines(bx.out);
  REQUIRE(bxLines.size() == 12012);
  CHECK(
      bxLines[1] ==
      R"({"seq":2,"type":"R","locate":1,"tracking":0,"timestamp":11435930564116,"stock":"ALC","market_category":"N","financial_status":"N","round_lot_size":100,"round_lots_only":"N","issue_classification":"A","issue_subtype":"Z","authenticity":"P","short_sale_threshold":"N","ipo_flag":"N","luld_reference_price_tier":"2","etp_flag":"N","etp_leverage_factor":0,"inverse_indicator":"N"})");

  // All-NUL session -> "", sequence 0.
  const Run u =
      fhctl({"decode", fh::test::testdata("omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderReplace.pcap")});
  REQUIRE(u.exited);
  CHECK(u.exitCode == 0);
  const std::vector<std::string> uLines = lines(u.out);
  REQUIRE(uLines.size() == 5);
  CHECK(
      uLines[0] ==
      R"({"seq":0,"session":"","type":"U","locate":7603,"tracking":0,"timestamp":34199999836649,"original_order_ref":15108479,"new_order_ref":21361351,"shares":100,"price":1062600})");
}

TEST_CASE("fhctl: every jsonl line of every capture has exactly the spec's keys", "[fhctl]") {
  size_t files = 0;
  for (const std::string& relative : captures()) {
    INFO("file " << relative);
    const auto expected = kMessages.find(relative);
    if (expected == kMessages.end()) {
      FAIL_CHECK("no expected message count for " << relative << ": add it to kMessages");
      continue;
    }
    ++files;
    const Run r = fhctl({"decode", "--format", "jsonl", fh::test::testdata(relative)});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    CHECK((!r.out.empty() && r.out.back() == '\n'));
    const std::vector<std::string> out = lines(r.out);
    CHECK(out.size() == expected->second);
    std::map<char, size_t> types;
    for (const std::string& line : out) ++types[checkJsonlLine(line, isPcap(relative))];
    // The omi files are named after the one message type they hold.
    if (relative.starts_with("omi/") && relative.find("Multiple") == std::string::npos) CHECK(types.size() == 1);
  }
  CHECK(files == kMessages.size());
}

TEST_CASE("fhctl: the HSRP frames of elk_nasdaq.pcap, with and without --port", "[fhctl]") {
  const std::string elk = fh::test::testdata("elk_nasdaq.pcap");
  const Run all = fhctl({"decode", elk});
  const Run port = fhctl({"decode", "--port", "26477", elk});
  REQUIRE(all.exited);
  REQUIRE(port.exited);
  CHECK(all.exitCode == 0);
  CHECK(port.exitCode == 0);
  CHECK(port.out == all.out);  // the HSRP frames carry no messages either way
  CHECK(lines(port.out).size() == 2232);

  // With the port filter nothing is malformed and nothing is reported.
  CHECK(port.err.empty());

  // Without it, one warning per HSRP frame (frame numbers from
  // `tshark -r elk_nasdaq.pcap -Y hsrp -T fields -e frame.number`), each
  // naming the file.
  INFO("stderr: " << all.err);
  const uint64_t hsrpFrames[] = {1, 94, 161, 224, 358, 520, 574, 734, 886, 1052, 1341};
  CHECK(countContaining(all.err, "frame ") == 11);
  for (const uint64_t frame : hsrpFrames) {
    const std::string needle = "frame " + std::to_string(frame) + ":";
    CHECK(countContaining(all.err, needle) == 1);
  }
  for (const std::string& line : lines(all.err)) CHECK(line.find(elk) != std::string::npos);
}

TEST_CASE("fhctl: decode errors exit non-zero with a message naming the file or option", "[fhctl]") {
  TempDir dir;
  const std::string snippet = readAll(fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50"));
  const std::string elk = readAll(fh::test::testdata("elk_nasdaq.pcap"));
  REQUIRE(snippet.size() == 35570);
  REQUIRE(elk.size() == 220010);

  SECTION("a missing file") {
    const std::string path = (dir.path() / "no-such-capture.pcap").string();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"decode", path}, std::vector<std::string>{"book", "--from", path}}) {
      const Run r = fhctl(args);
      REQUIRE(r.exited);
      CHECK(r.exitCode != 0);
      CHECK(r.err.find(path) != std::string::npos);
      CHECK(r.out.empty());
    }
  }
  SECTION("a directory") {
    const std::string path = dir.path().string();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"decode", path}, std::vector<std::string>{"book", "--from", path}}) {
      const Run r = fhctl(args);
      REQUIRE(r.exited);
      CHECK(r.exitCode != 0);
      CHECK(r.err.find(path) != std::string::npos);
      CHECK(r.out.empty());
    }
  }
  SECTION("a BinaryFILE cut in the middle of a record") {
    // Records 1..28 end at byte 976; record 29 (2 + 36 bytes) is cut at 1000.
    const std::string path = (dir.path() / "cut.NASDAQ_ITCH50").string();
    writeAll(path, std::string_view(snippet).substr(0, 1000));
    const Run r = fhctl({"decode", path});
    REQUIRE(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.err.find(path) != std::string::npos);
    // The complete records before the cut are still printed, exactly as from the whole file.
    const std::vector<std::string> out = lines(r.out);
    CHECK(out.size() == 28);
    const std::vector<std::string> whole =
        lines(fhctl({"decode", fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50")}).out);
    REQUIRE(whole.size() == 1000);
    CHECK(out == std::vector<std::string>(whole.begin(), whole.begin() + 28));

    const Run book = fhctl({"book", "--from", path});
    REQUIRE(book.exited);
    CHECK(book.exitCode != 0);
    CHECK(book.err.find(path) != std::string::npos);
  }
  SECTION("a BinaryFILE cut inside a length prefix") {
    const std::string path = (dir.path() / "cut1.NASDAQ_ITCH50").string();
    writeAll(path, std::string_view(snippet).substr(0, 21 + 1));  // record 1 (21 bytes) + 1 byte
    const Run r = fhctl({"decode", path});
    REQUIRE(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.err.find(path) != std::string::npos);
    CHECK(lines(r.out) == std::vector<std::string>{kSpecExampleSnippet});
  }
  SECTION("a pcap cut in the middle of a frame") {
    const std::string path = (dir.path() / "cut.pcap").string();
    writeAll(path, std::string_view(elk).substr(0, 5000));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"decode", path}, std::vector<std::string>{"book", "--from", path}}) {
      const Run r = fhctl(args);
      REQUIRE(r.exited);
      CHECK(r.exitCode != 0);
      CHECK(r.err.find(path) != std::string::npos);
    }
  }
  SECTION("a pcap cut inside its file header") {
    const std::string path = (dir.path() / "header.pcap").string();
    writeAll(path, std::string_view(elk).substr(0, 10));
    const Run r = fhctl({"decode", path});
    REQUIRE(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.err.find(path) != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("bad options") {
    const std::string file = fh::test::testdata("elk_nasdaq.pcap");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"decode", "--bogus", file}, "--bogus"},
        {{"decode", "--format", "xml", file}, "xml"},
        {{"decode", "--port", "70000", file}, "--port"},
        {{"decode", "--port", "-1", file}, "--port"},
        {{"decode", "--port", "abc", file}, "--port"},
        {{"decode"}, "FILE"},
        {{"book", "--depth", "-3", "--from", file}, "--depth"},
        {{"book", "--max-orders", "5", "--from", file}, "--max-orders"},
        {{"book", "--shm", "fh-no-such-region"}, "/dev/shm/fh-no-such-region"},
        {{"book", "--shm", "x", "--from", file}, "--shm"},
        {{}, "subcommand"},
    };
    for (const auto& [args, named] : cases) {
      std::string joined;
      for (const std::string& a : args) joined += a + " ";
      INFO("fhctl " << joined);
      const Run r = fhctl(args);
      REQUIRE(r.exited);
      CHECK(r.exitCode != 0);
      CHECK(r.err.find(named) != std::string::npos);
      CHECK(r.out.empty());
    }
  }
}

TEST_CASE("fhctl: book --json is sorted by symbol, well formed, and adds up", "[fhctl]") {
  // Live orders, price levels and books with orders at the end of each file,
  // from the independent Python book model (testdata_test.cc).
  struct Totals {
    const char* file;
    size_t books, levels, orders;
  };
  const Totals totals[] = {
      {"elk_nasdaq.pcap", 72, 185, 215},
      {"12302019_SNIPPET.NASDAQ_ITCH50", 185, 421, 532},
      {"bx_sample_20191230.NASDAQ_ITCH50", 3, 1155, 3204},
      {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap", 1, 17, 38},
      {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMPID.pcap", 4, 4, 5},
  };
  for (const Totals& t : totals) {
    INFO("file " << t.file);
    const Run r = fhctl({"book", "--from", fh::test::testdata(t.file), "--json", "--depth", "0"});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    const std::vector<std::string> out = lines(r.out);
    CHECK(out.size() == t.books);
    size_t levels = 0, orders = 0;
    std::string previous;
    std::set<uint64_t> locates;
    for (const std::string& line : out) {
      const BookLine b = checkBookLine(line);
      CHECK(previous <= b.symbol);
      previous = b.symbol;
      CHECK(locates.insert(b.locate).second);
      CHECK(b.bids.size() + b.asks.size() > 0);  // only books with orders, unless asked by symbol
      levels += b.bids.size() + b.asks.size();
      for (const Level& l : b.bids) orders += l.orders;
      for (const Level& l : b.asks) orders += l.orders;
    }
    CHECK(levels == t.levels);
    CHECK(orders == t.orders);

    // The default depth is 10 levels a side.
    const Run shallow = fhctl({"book", "--from", fh::test::testdata(t.file), "--json"});
    REQUIRE(shallow.exited);
    CHECK(shallow.exitCode == 0);
    const std::vector<std::string> shallowLines = lines(shallow.out);
    CHECK(shallowLines.size() == t.books);
    for (const std::string& line : shallowLines) {
      const BookLine b = checkBookLine(line);
      CHECK(b.bids.size() <= 10);
      CHECK(b.asks.size() <= 10);
    }
  }
}

TEST_CASE("fhctl: book --timing says on stderr how many messages went into the books and changes no output",
          "[fhctl]") {
  const std::string elk = fh::test::testdata("elk_nasdaq.pcap");
  const Run plain = fhctl({"book", "--from", elk, "--json"});
  const Run timed = fhctl({"book", "--from", elk, "--json", "--timing"});
  REQUIRE(plain.exited);
  REQUIRE(timed.exited);
  CHECK(plain.exitCode == 0);
  CHECK(timed.exitCode == 0);
  CHECK(timed.out == plain.out);
  CHECK(plain.err.find("messages into the books") == std::string::npos);
  // Every message of the capture, as decode counts them (one line each).
  const size_t decoded = lines(fhctl({"decode", elk}).out).size();
  REQUIRE(decoded > 1000);
  CHECK(timed.err.find("fhctl book: " + std::to_string(decoded) + " messages into the books in ") != std::string::npos);
  CHECK(timed.err.find("M messages/s, ") != std::string::npos);
}

TEST_CASE("fhctl: book --symbol", "[fhctl]") {
  const std::string elk = fh::test::testdata("elk_nasdaq.pcap");
  SECTION("one book, every level, against the independent model") {
    // UWTI (locate 7708) at the end of elk_nasdaq.pcap, from the Python book model.
    const Run r = fhctl({"book", "--from", elk, "--json", "--symbol", "UWTI", "--depth", "0"});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    const std::vector<std::string> out = lines(r.out);
    REQUIRE(out.size() == 1);
    const BookLine b = checkBookLine(out[0]);
    CHECK(b.symbol == "UWTI");
    CHECK(b.locate == 7708);
    CHECK(b.bids == std::vector<Level>{{212900, 300, 1},
                                       {212800, 300, 1},
                                       {212700, 4400, 2},
                                       {212600, 6000, 3},
                                       {212500, 6300, 3},
                                       {212400, 1400, 1}});
    CHECK(b.asks == std::vector<Level>{{213300, 4900, 2},
                                       {213400, 6500, 4},
                                       {213500, 700, 2},
                                       {213600, 300, 1},
                                       {213700, 300, 1},
                                       {213800, 4100, 2},
                                       {219000, 10, 1}});
  }
  SECTION("two symbols, depth 2") {
    const Run r = fhctl({"book", "--from", elk, "--json", "--symbol", "UWTI", "--symbol", "SPY", "--depth", "2"});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    const std::vector<std::string> out = lines(r.out);
    REQUIRE(out.size() == 2);
    std::set<std::string> symbols;
    for (const std::string& line : out) {
      const BookLine b = checkBookLine(line);
      symbols.insert(b.symbol);
      CHECK(b.bids.size() == 2);
      CHECK(b.asks.size() == 2);
      if (b.symbol == "SPY") {
        CHECK(b.bids == std::vector<Level>{{2138100, 6000, 1}, {2138000, 11000, 3}});
        CHECK(b.asks == std::vector<Level>{{2138400, 400, 1}, {2138500, 5000, 1}});
      }
    }
    CHECK(symbols == std::set<std::string>{"UWTI", "SPY"});
  }
  SECTION("--busiest: the books with the most levels, busiest first") {
    const Run all = fhctl({"book", "--from", elk, "--json", "--depth", "0"});
    REQUIRE(all.exitCode == 0);
    std::vector<std::pair<size_t, std::string>> byLevels;  // (levels, line), in symbol order
    for (const std::string& line : lines(all.out)) {
      const BookLine b = checkBookLine(line);
      byLevels.emplace_back(b.bids.size() + b.asks.size(), line);
    }
    std::stable_sort(byLevels.begin(), byLevels.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    const Run r = fhctl({"book", "--from", elk, "--json", "--depth", "0", "--busiest", "3"});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    const std::vector<std::string> out = lines(r.out);
    REQUIRE(out.size() == 3);
    for (size_t i = 0; i < 3; ++i) CHECK(out[i] == byLevels[i].second);
    CHECK(byLevels[0].first > byLevels[3].first);  // the file has a clear leader: not a vacuous order

    const Run both = fhctl({"book", "--from", elk, "--busiest", "3", "--symbol", "SPY"});
    REQUIRE(both.exited);
    CHECK(both.exitCode != 0);
    CHECK(both.err.find("--busiest") != std::string::npos);
  }
  SECTION("an unknown symbol") {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"book", "--from", elk, "--json", "--symbol", "NOSUCH"},
          std::vector<std::string>{"book", "--from", elk, "--symbol", "NOSUCH"},
          std::vector<std::string>{"book", "--from", elk, "--json", "--symbol", "UWTI", "--symbol", "NOSUCH"}}) {
      const Run r = fhctl(args);
      REQUIRE(r.exited);
      CHECK(r.exitCode != 0);
      CHECK(r.err.find("NOSUCH") != std::string::npos);
    }
  }
}

TEST_CASE("fhctl: JSON strings are escaped in decode and book output", "[fhctl]") {
  // A BinaryFILE of one A message whose stock holds a quote, a backslash and
  // a control byte: 2-byte length 36, then the message.
  const uint8_t file[] = {
      0x00, 0x24,                                      // record length 36
      'A',                                             // message type
      0x00, 0x05,                                      // stock locate 5
      0x00, 0x00,                                      // tracking number
      0x1F, 0x1A, 0xCE, 0xD9, 0xF0, 0xE6,              // timestamp 34,200,000,000,230
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // order reference 1
      'B',                                             // side
      0x00, 0x00, 0x00, 0x64,                          // shares 100
      'Q',  '"',  '\\', 0x01, ' ',  ' ',  ' ',  ' ',   // stock: Q " \ 0x01
      0x00, 0x01, 0x86, 0xA0,                          // price 10.0000
  };
  TempDir dir;
  const std::string path = (dir.path() / "escapes.NASDAQ_ITCH50").string();
  writeAll(path, std::string_view(reinterpret_cast<const char*>(file), sizeof file));

  const Run decode = fhctl({"decode", path});
  REQUIRE(decode.exited);
  CHECK(decode.exitCode == 0);
  CHECK(decode.out ==
        "{\"seq\":1,\"type\":\"A\",\"locate\":5,\"tracking\":0,\"timestamp\":34200000000230,\"order_ref\":1,"
        "\"side\":\"B\",\"shares\":100,\"stock\":\"Q\\\"\\\\\\u0001\",\"price\":100000}\n");

  const Run book = fhctl({"book", "--from", path, "--json"});
  REQUIRE(book.exited);
  CHECK(book.exitCode == 0);
  const std::vector<std::string> out = lines(book.out);
  REQUIRE(out.size() == 1);
  const BookLine b = checkBookLine(out[0]);
  CHECK(b.symbol == std::string("Q\"\\\x01"));
  CHECK(b.locate == 5);
  CHECK(b.bids == std::vector<Level>{{100000, 100, 1}});
  CHECK(b.asks.empty());
}

namespace {

// Big-endian bytes of an integer, for hand-made packets.
std::string be(uint64_t v, int width) {
  std::string s;
  for (int i = width - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

// An ITCH D message (spec 1.5.4): type, locate, tracking, timestamp, order reference.
std::string orderDelete(uint64_t ref) {
  return std::string("D") + be(1, 2) + be(0, 2) + be(34'200'000'000'230ull, 6) + be(ref, 8);
}

// A MoldUDP64 packet: session, sequence, count, then length-prefixed blocks.
std::string moldPacket(uint64_t sequence, uint16_t count, const std::vector<std::string>& blocks) {
  std::string p = std::string("TEST000001") + be(sequence, 8) + be(count, 2);
  for (const std::string& b : blocks) p += be(b.size(), 2) + b;
  return p;
}

// A classic little-endian microsecond pcap of Ethernet/IPv4/UDP frames from
// 198.18.0.1:40000 to 239.1.1.1:`port`, one frame per payload.
std::string pcapOf(const std::vector<std::string>& payloads, uint16_t port) {
  auto le = [](uint64_t v, int width) {
    std::string s;
    for (int i = 0; i < width; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
  };
  std::string f = le(0xA1B2C3D4, 4) + le(2, 2) + le(4, 2) + le(0, 4) + le(0, 4) + le(65535, 4) + le(1, 4);
  uint32_t second = 1'700'000'000;
  for (const std::string& payload : payloads) {
    const std::string udp = be(40000, 2) + be(port, 2) + be(8 + payload.size(), 2) + be(0, 2) + payload;
    const std::string ip = std::string("\x45\x00", 2) + be(20 + udp.size(), 2) + be(0, 2) + be(0x4000, 2) +
                           std::string("\x40\x11", 2) + be(0, 2) + be(0xC6120001, 4) /* 198.18.0.1 */ +
                           be(0xEF010101, 4) /* 239.1.1.1 */ + udp;
    const std::string frame = be(0x01005E010101, 6) + be(0x020000000001, 6) + be(0x0800, 2) + ip;
    f += le(second++, 4) + le(0, 4) + le(frame.size(), 4) + le(frame.size(), 4) + frame;
  }
  return f;
}

// Lines of `text` naming `prefix` followed by exactly `number` ("seq 2", not "seq 20").
size_t mentions(const std::string& text, const std::string& prefix, uint64_t number) {
  const std::string needle = prefix + std::to_string(number);
  size_t n = 0;
  for (const std::string& line : lines(text)) {
    for (size_t at = line.find(needle); at != std::string::npos; at = line.find(needle, at + 1)) {
      const size_t end = at + needle.size();
      if (end == line.size() || line[end] < '0' || line[end] > '9') {
        ++n;
        break;
      }
    }
  }
  return n;
}

}  // namespace

TEST_CASE("fhctl: decode of a made-up pcap: heartbeats, repeats, an overrun", "[fhctl]") {
  TempDir dir;
  const std::string path = (dir.path() / "made-up.pcap").string();
  writeAll(path, pcapOf(
                     {
                         moldPacket(100, 0, {}),                                // frame 1: heartbeat
                         moldPacket(100, 1, {orderDelete(1)}),                  // frame 2
                         moldPacket(100, 1, {orderDelete(1)}),                  // frame 3: a repeat
                         moldPacket(101, 3, {orderDelete(2), orderDelete(3)}),  // frame 4: 2 of 3 blocks
                         moldPacket(103, 0xFFFF, {}),                           // frame 5: end of session
                     },
                     26477));
  const Run r = fhctl({"decode", path});
  REQUIRE(r.exited);
  INFO("stderr: " << r.err);
  const std::vector<std::string> out = lines(r.out);
  REQUIRE(out.size() == 4);  // the repeat is decoded again; the overrun's complete blocks too
  const uint64_t sequences[] = {100, 100, 101, 102};
  const uint64_t refs[] = {1, 1, 2, 3};
  for (size_t i = 0; i < 4; ++i)
    CHECK(out[i] == std::string(R"({"seq":)") + std::to_string(sequences[i]) +
                        R"(,"session":"TEST000001","type":"D","locate":1,"tracking":0,)" +
                        R"("timestamp":34200000000230,"order_ref":)" + std::to_string(refs[i]) + "}");
  // Only the overrun is reported; heartbeat and end of session are normal.
  CHECK(mentions(r.err, "frame ", 4) == 1);
  for (uint64_t frame : {1, 2, 3, 5}) CHECK(mentions(r.err, "frame ", frame) == 0);

  // Filtered to another port, nothing at all.
  const Run other = fhctl({"decode", "--port", "26478", path});
  REQUIRE(other.exited);
  CHECK(other.exitCode == 0);
  CHECK(other.out.empty());
  CHECK(other.err.empty());
}

TEST_CASE("fhctl: decode reports unknown types, wrong lengths and empty records with their seq", "[fhctl]") {
  TempDir dir;
  const std::string path = (dir.path() / "odd.NASDAQ_ITCH50").string();
  const std::string records[] = {
      orderDelete(10),                          // seq 1
      std::string("Z") + std::string(4, '\0'),  // seq 2: unknown type
      std::string("A") + std::string(34, ' '),  // seq 3: an A of 35 bytes, not 36
      "",                                       // seq 4: empty
      orderDelete(11),                          // seq 5
  };
  std::string file;
  for (const std::string& m : records) file += be(m.size(), 2) + m;
  writeAll(path, file);

  const Run r = fhctl({"decode", path});
  REQUIRE(r.exited);
  INFO("stderr: " << r.err);
  const std::vector<std::string> out = lines(r.out);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == R"({"seq":1,"type":"D","locate":1,"tracking":0,"timestamp":34200000000230,"order_ref":10})");
  CHECK(out[1] == R"({"seq":5,"type":"D","locate":1,"tracking":0,"timestamp":34200000000230,"order_ref":11})");
  CHECK(mentions(r.err, "seq ", 2) == 1);
  CHECK(mentions(r.err, "seq ", 3) == 1);
  CHECK(mentions(r.err, "seq ", 4) == 1);
  CHECK(mentions(r.err, "seq ", 1) == 0);
  CHECK(mentions(r.err, "seq ", 5) == 0);
}

namespace {

// An ITCH A message (spec 1.3.1): buy `shares` of `stock` at `price` (Price(4)).
std::string addOrder(uint16_t locate, uint64_t ref, const std::string& stock, uint32_t shares, uint32_t price) {
  std::string symbol = stock;
  symbol.resize(8, ' ');
  return std::string("A") + be(locate, 2) + be(0, 2) + be(34'200'000'000'230ull, 6) + be(ref, 8) + "B" + be(shares, 4) +
         symbol + be(price, 4);
}

std::string binaryFile(const std::vector<std::string>& messages) {
  std::string file;
  for (const std::string& m : messages) file += be(m.size(), 2) + m;
  return file;
}

}  // namespace

// Every add of a file is a live order at its end when nothing removes it: the
// book must not run out of room before the file does.
TEST_CASE("fhctl: book shows every order of a file of adds", "[fhctl]") {
  TempDir dir;
  SECTION("100 instruments, one order each") {
    std::vector<std::string> adds;
    for (uint16_t i = 1; i <= 100; ++i) {
      char symbol[8];
      std::snprintf(symbol, sizeof symbol, "S%03u", unsigned{i});
      adds.push_back(addOrder(i, i, symbol, 100, 100'000));
    }
    const std::string path = (dir.path() / "spread.NASDAQ_ITCH50").string();
    writeAll(path, binaryFile(adds));
    const Run r = fhctl({"book", "--from", path, "--json"});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    const std::vector<std::string> out = lines(r.out);
    CHECK(out.size() == 100);
    for (size_t i = 0; i < out.size(); ++i) {
      const BookLine b = checkBookLine(out[i]);
      CHECK(b.locate == i + 1);  // S001..S100 sort like their locates
      CHECK(b.bids == std::vector<Level>{{100'000, 100, 1}});
    }
  }
  SECTION("one instrument, 100 price levels") {
    std::vector<std::string> adds;
    for (uint32_t i = 1; i <= 100; ++i) adds.push_back(addOrder(1, i, "ONE", 100, 100'000 + 100 * i));
    const std::string path = (dir.path() / "deep.NASDAQ_ITCH50").string();
    writeAll(path, binaryFile(adds));
    const Run r = fhctl({"book", "--from", path, "--json", "--depth", "0"});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 0);
    const std::vector<std::string> out = lines(r.out);
    REQUIRE(out.size() == 1);
    const BookLine b = checkBookLine(out[0]);
    CHECK(b.symbol == "ONE");
    REQUIRE(b.bids.size() == 100);
    CHECK(b.bids.front() == Level{110'000, 100, 1});
    CHECK(b.bids.back() == Level{100'100, 100, 1});
  }
}
