#include "detectors/alarm_decision.h"

namespace tw::detectors {

using pipeline::TreatMissingData;

namespace {

size_t count_breaching(std::span<const Verdict> range, const std::vector<size_t>& slots) {
  size_t n = 0;
  for (const size_t slot : slots) {
    n += range[slot] == Verdict::kBreaching ? 1U : 0U;
  }
  return n;
}

}  // namespace

Decision decide(std::span<const Verdict> range, int n, int m, TreatMissingData treat) {
  const auto needed = static_cast<size_t>(n);
  const auto to_alarm = static_cast<size_t>(m);
  Decision d;
  std::vector<size_t> real;
  for (size_t slot = 0; slot < range.size(); ++slot) {
    if (range[slot] != Verdict::kMissing) {
      real.push_back(slot);
    }
  }

  // Rules 1 and 2 of the user guide: enough real points; the N newest decide.
  if (real.size() >= needed) {
    d.evaluated.assign(real.begin(), real.begin() + static_cast<std::ptrdiff_t>(needed));
    d.kind = Decision::Kind::kState;
    d.state =
        count_breaching(range, d.evaluated) >= to_alarm ? AlarmState::kAlarm : AlarmState::kOk;
    return d;
  }

  // No data at all: the treatment alone decides.
  if (real.empty()) {
    d.all_missing = true;
    switch (treat) {
      case TreatMissingData::kMissing:
        d.kind = Decision::Kind::kState;
        d.state = AlarmState::kInsufficientData;
        break;
      case TreatMissingData::kIgnore:
        d.kind = Decision::Kind::kRetain;
        break;
      case TreatMissingData::kBreaching:
        d.kind = Decision::Kind::kState;
        d.state = AlarmState::kAlarm;
        d.filled = needed;
        d.filled_as = Verdict::kBreaching;
        break;
      case TreatMissingData::kNotBreaching:
        d.kind = Decision::Kind::kState;
        d.state = AlarmState::kOk;
        d.filled = needed;
        d.filled_as = Verdict::kNotBreaching;
        break;
    }
    return d;
  }

  // Fewer real points than N: all of them count.
  d.evaluated = real;
  const size_t breaching = count_breaching(range, real);
  if (treat == TreatMissingData::kBreaching || treat == TreatMissingData::kNotBreaching) {
    // Rule 3: fill the shortfall with as few points as possible.
    d.filled = needed - real.size();
    d.filled_as =
        treat == TreatMissingData::kBreaching ? Verdict::kBreaching : Verdict::kNotBreaching;
    const size_t total = breaching + (treat == TreatMissingData::kBreaching ? d.filled : 0);
    d.kind = Decision::Kind::kState;
    d.state = total >= to_alarm ? AlarmState::kAlarm : AlarmState::kOk;
    return d;
  }
  // missing / ignore: nothing is filled.
  if (breaching >= to_alarm) {
    d.kind = Decision::Kind::kState;
    d.state = AlarmState::kAlarm;
    return d;
  }
  if (breaching < real.size()) {
    d.kind = Decision::Kind::kState;
    d.state = AlarmState::kOk;
    return d;
  }
  // Only breaching points, fewer than M.
  if (treat == TreatMissingData::kIgnore) {
    d.kind = Decision::Kind::kRetain;
    return d;
  }
  // The premature-alarm guard: the oldest breaching point is at least M periods old (age 1 is
  // the newest slot), and nothing newer was good.
  const size_t oldest_age = real.back() + 1;
  if (oldest_age >= to_alarm) {
    d.kind = Decision::Kind::kState;
    d.state = AlarmState::kAlarm;
    return d;
  }
  d.kind = Decision::Kind::kRetain;
  return d;
}

}  // namespace tw::detectors
