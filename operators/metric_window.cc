#include "operators/metric_window.h"

#include <algorithm>

namespace tw::operators {

using pipeline::Duration;
using pipeline::EventTime;
using pipeline::Unit;

void WindowRequirements::merge(const WindowRequirements& other) {
  resolution = std::min(resolution, other.resolution);
  retention = std::max(retention, other.retention);
  percentiles = percentiles || other.percentiles;
}

SeriesWindow::SeriesWindow(const WindowRequirements& requirements) : requirements_(requirements) {
}

void SeriesWindow::require(const WindowRequirements& requirements) {
  requirements_.merge(requirements);
}

SeriesWindow::Bucket& SeriesWindow::bucket_for(int64_t start_ms, Unit unit) {
  // Samples arrive mostly in time order, so the bucket is almost always the last one.
  if (buckets_.size() > head_) {
    Bucket& last = buckets_.back();
    if (last.start_ms == start_ms && last.unit == unit) {
      return last;
    }
  }
  auto less = [](const Bucket& b, std::pair<int64_t, Unit> key) {
    return b.start_ms < key.first || (b.start_ms == key.first && b.unit < key.second);
  };
  const auto first = buckets_.begin() + static_cast<std::ptrdiff_t>(head_);
  auto it = std::lower_bound(first, buckets_.end(), std::make_pair(start_ms, unit), less);
  if (it != buckets_.end() && it->start_ms == start_ms && it->unit == unit) {
    return *it;
  }
  Bucket bucket;
  bucket.start_ms = start_ms;
  bucket.unit = unit;
  if (requirements_.percentiles) {
    bucket.sketch = std::make_unique<QuantileSketch>();
  }
  return *buckets_.insert(it, std::move(bucket));
}

// Percentiles need the individual values. Raw values and degenerate statistic sets (one sample,
// or all samples equal) give them exactly. Reported percentiles (metric streams' p99, ...) give
// an approximation: the mass between two reported quantiles is placed at the upper one, so the
// reported quantiles themselves are reproduced within the sketch's accuracy and everything
// between is bounded by its neighbours. A plain statistic set gives nothing, and CloudWatch
// treats it the same way: percentiles of such periods are unavailable.
void SeriesWindow::feed_sketch(QuantileSketch& sketch, const pipeline::MetricSample& sample,
                               bool& percentiles_available) {
  const pipeline::StatisticSet& s = sample.stats;
  if (!sample.values.empty()) {
    for (const pipeline::WeightedValue& v : sample.values) {
      sketch.add(v.value, v.weight);
    }
    return;
  }
  if (s.sample_count == 1 || s.minimum == s.maximum) {
    sketch.add(s.minimum, s.sample_count);
    return;
  }
  if (sample.quantiles.empty()) {
    percentiles_available = false;
    return;
  }
  const double n = s.sample_count;
  if (n < 2) {
    sketch.add(s.minimum, n);  // Fractional counts below two: nothing to spread.
    return;
  }
  sketch.add(s.minimum, 1);
  double placed = 1;
  double previous_q = 0;
  // Reported quantiles come in record order; walk them by increasing quantile.
  std::vector<pipeline::ReportedQuantile> sorted(sample.quantiles.begin(), sample.quantiles.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.quantile < b.quantile; });
  for (const pipeline::ReportedQuantile& rq : sorted) {
    if (rq.quantile <= previous_q) {
      continue;
    }
    previous_q = rq.quantile;
    const double target = std::min(n - 1, std::ceil(rq.quantile * n - 1e-9));
    const double mass = target - placed;
    if (mass > 0) {
      sketch.add(std::clamp(rq.value, s.minimum, s.maximum), mass);
      placed = target;
    }
  }
  if (n - placed > 0) {
    sketch.add(s.maximum, n - placed);
  }
}

void SeriesWindow::add(const pipeline::MetricSample& sample) {
  // CloudWatch stores standard-resolution data with one-minute granularity: such a datapoint
  // belongs to its minute, so a 10-second period sees it only in the minute's first ten seconds.
  const pipeline::EventTime time =
      sample.high_resolution ? sample.time : sample.time.floor(Duration::minutes(1));
  const int64_t start = time.floor(requirements_.resolution).millis();
  Bucket& bucket = bucket_for(start, sample.unit);
  bucket.stats.merge(sample.stats);
  if (bucket.sketch) {
    feed_sketch(*bucket.sketch, sample, bucket.percentiles_available);
  }
}

void SeriesWindow::aggregate(EventTime from, EventTime to, std::optional<Unit> unit,
                             RangeAggregate& out, QuantileSketch* sketch) const {
  auto before = [](const Bucket& b, int64_t t) {
    return b.start_ms < t;
  };
  const auto first = buckets_.begin() + static_cast<std::ptrdiff_t>(head_);
  for (auto it = std::lower_bound(first, buckets_.end(), from.millis(), before);
       it != buckets_.end() && it->start_ms < to.millis(); ++it) {
    if (unit && it->unit != *unit) {
      continue;
    }
    out.stats.merge(it->stats);
    out.percentiles_available = out.percentiles_available && it->percentiles_available;
    if (sketch != nullptr && it->sketch) {
      sketch->merge(*it->sketch);
    }
  }
}

void SeriesWindow::evict_before(EventTime t) {
  while (head_ < buckets_.size() && buckets_[head_].start_ms < t.millis()) {
    buckets_[head_].sketch.reset();
    ++head_;
  }
  // Compact once the evicted prefix dominates, so eviction stays amortised O(1) per bucket.
  if (head_ > 0 && head_ * 2 >= buckets_.size()) {
    buckets_.erase(buckets_.begin(), buckets_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

size_t SeriesWindow::memory_bytes() const {
  size_t bytes = sizeof(*this) + buckets_.capacity() * sizeof(Bucket);
  for (size_t i = head_; i < buckets_.size(); ++i) {
    if (buckets_[i].sketch) {
      bytes += buckets_[i].sketch->memory_bytes();
    }
  }
  return bytes;
}

void MetricWindows::track(pipeline::SeriesId id, const WindowRequirements& requirements) {
  if (id.value >= windows_.size()) {
    windows_.resize(id.value + 1);
  }
  auto& window = windows_[id.value];
  if (window) {
    window->require(requirements);
  } else {
    window = std::make_unique<SeriesWindow>(requirements);
    ++tracked_;
  }
}

void SeriesWindow::take_buckets(SeriesWindow& previous) {
  if (previous.requirements_.resolution != requirements_.resolution) {
    return;
  }
  buckets_ = std::move(previous.buckets_);
  head_ = previous.head_;
  previous.buckets_.clear();
  previous.head_ = 0;
  if (requirements_.percentiles) {
    for (Bucket& b : buckets_) {
      b.percentiles_available = b.percentiles_available && b.sketch != nullptr;
    }
  }
}

void SeriesWindow::save(pipeline::StateWriter& out) const {
  out.duration(requirements_.resolution);
  out.u32(static_cast<uint32_t>(buckets_.size() - head_));
  std::string sketch_bytes;
  for (size_t i = head_; i < buckets_.size(); ++i) {
    const Bucket& b = buckets_[i];
    out.i64(b.start_ms);
    out.u8(static_cast<uint8_t>(b.unit));
    out.boolean(b.percentiles_available);
    out.f64(b.stats.sample_count);
    out.f64(b.stats.sum);
    out.f64(b.stats.minimum);
    out.f64(b.stats.maximum);
    out.f64(b.stats.sum_error);
    out.f64(b.stats.count_error);
    sketch_bytes.clear();
    if (b.sketch) {
      b.sketch->serialize(sketch_bytes);
    }
    out.text(sketch_bytes);
  }
}

bool SeriesWindow::load(pipeline::StateReader& in) {
  const Duration resolution = in.duration();
  // Smallest bucket: start, unit, flag, six doubles and an empty sketch's length.
  constexpr size_t kMinBucketBytes = 8 + 1 + 1 + 6 * 8 + 4;
  const uint32_t n = in.count(kMinBucketBytes);
  std::vector<Bucket> restored;
  restored.reserve(n);
  for (uint32_t i = 0; i < n && in.ok(); ++i) {
    Bucket b;
    b.start_ms = in.i64();
    const uint8_t unit = in.u8();
    if (unit > static_cast<uint8_t>(pipeline::kLastUnit)) {
      in.fail("a bucket's unit is " + std::to_string(unit));
    }
    b.unit = static_cast<Unit>(unit);
    b.percentiles_available = in.boolean();
    b.stats.sample_count = in.f64();
    b.stats.sum = in.f64();
    b.stats.minimum = in.f64();
    b.stats.maximum = in.f64();
    b.stats.sum_error = in.f64();
    b.stats.count_error = in.f64();
    const std::string_view sketch = in.text();
    if (!sketch.empty() && in.ok()) {
      auto decoded = QuantileSketch::deserialize(sketch);
      if (!decoded.is_ok()) {
        in.fail("a bucket's sketch: " + decoded.status().message());
        break;
      }
      b.sketch = std::make_unique<QuantileSketch>(std::move(decoded).value());
    }
    if (!restored.empty() && std::make_pair(restored.back().start_ms, restored.back().unit) >=
                                 std::make_pair(b.start_ms, b.unit)) {
      in.fail("buckets out of order");
    }
    restored.push_back(std::move(b));
  }
  if (!in.ok()) {
    return false;
  }
  if (resolution != requirements_.resolution) {
    return true;
  }
  buckets_ = std::move(restored);
  head_ = 0;
  if (requirements_.percentiles) {
    for (Bucket& b : buckets_) {
      b.percentiles_available = b.percentiles_available && b.sketch != nullptr;
    }
  }
  return true;
}

void MetricWindows::take_buckets(MetricWindows& previous) {
  const size_t common = std::min(windows_.size(), previous.windows_.size());
  for (size_t i = 0; i < common; ++i) {
    if (windows_[i] && previous.windows_[i]) {
      windows_[i]->take_buckets(*previous.windows_[i]);
    }
  }
}

void MetricWindows::evict(EventTime watermark) {
  for (auto& window : windows_) {
    if (window) {
      window->evict_before(watermark - window->requirements().retention);
    }
  }
}

size_t MetricWindows::memory_bytes() const {
  size_t bytes = windows_.capacity() * sizeof(windows_[0]);
  for (const auto& window : windows_) {
    if (window) {
      bytes += window->memory_bytes();
    }
  }
  return bytes;
}

}  // namespace tw::operators
