#pragma once

/// A bounded multi-producer/multi-consumer FIFO for handing *batches* between threads.
///
/// One mutex acquisition per push or pop: the runtime moves batches of thousands of records, so
/// the lock is amortised to nothing per record, and a plain mutex with condition variables is
/// far easier to reason about than a lock-free ring. A capacity of 0 means unbounded.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace tw::pipeline {

template <typename T>
class BlockingQueue {
 public:
  explicit BlockingQueue(size_t capacity = 0) : capacity_(capacity) {}

  /// Appends `item`, waiting while the queue is full.
  void push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return capacity_ == 0 || items_.size() < capacity_; });
    items_.push_back(std::move(item));
    not_empty_.notify_one();
  }

  /// Removes the oldest item, waiting while the queue is empty.
  T pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  /// Removes the oldest item if there is one.
  std::optional<T> try_pop() {
    const std::lock_guard lock(mutex_);
    if (items_.empty()) {
      return std::nullopt;
    }
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

 private:
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
};

}  // namespace tw::pipeline
