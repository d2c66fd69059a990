#include "record/record.h"

#include <chrono>

namespace fh::record {

int64_t easternMidnightNs(int year, unsigned month, unsigned day) noexcept {
  using namespace std::chrono;
  const auto date = year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  const sys_days midnight{date};
  // DST runs from the second Sunday of March to the first Sunday of November
  // (switching at 02:00 local); midnight is on the switch day's old side.
  const sys_days dstStart{std::chrono::year{year} / March / Sunday[2]};
  const sys_days dstEnd{std::chrono::year{year} / November / Sunday[1]};
  const bool dst = midnight > dstStart && midnight <= dstEnd;
  const auto offset = hours{dst ? 4 : 5};
  return duration_cast<nanoseconds>((midnight + offset).time_since_epoch()).count();
}

}  // namespace fh::record
