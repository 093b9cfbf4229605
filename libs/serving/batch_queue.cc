#include "libs/serving/batch_queue.h"

#include <utility>

namespace fabrique::serving {

BatchQueue::BatchQueue(const Limits& limits)
    : max_batch_size_(limits.max_batch_size),
      max_queue_delay_(limits.max_queue_delay),
      preferred_(static_cast<size_t>(limits.max_batch_size) + 1, false) {
  for (int size : limits.preferred_batch_sizes) {
    if (size >= 1 && size <= max_batch_size_) preferred_[static_cast<size_t>(size)] = true;
  }
  // A full batch is always worth sending at once.
  preferred_[static_cast<size_t>(max_batch_size_)] = true;
}

void BatchQueue::Push(QueuedRequest request) {
  rows_ += request.inputs.rows;
  queue_.push_back(std::move(request));
}

BatchDecision BatchQueue::Decide(absl::Time now, bool draining) const {
  BatchDecision head;
  if (queue_.empty()) return head;
  BatchDecision preferred;  // The longest prefix that adds up to a preferred size, if any.
  bool full = false;
  // Walks the head only: it stops at the first request that does not fit, so a decision costs
  // at most max_batch_size live requests (plus expired ones, which are rare and leave with it).
  for (size_t i = 0; i < queue_.size(); ++i) {
    const QueuedRequest& request = queue_[i];
    if (now >= request.deadline) {
      head.requests = i + 1;
      continue;
    }
    if (head.rows + request.inputs.rows > max_batch_size_) {
      full = true;
      break;
    }
    head.rows += request.inputs.rows;
    head.requests = i + 1;
    if (IsPreferred(head.rows)) preferred = head;
    if (head.rows == max_batch_size_) break;
  }
  if (preferred.requests > 0) {
    preferred.dispatch = true;
    return preferred;
  }
  const absl::Time due = queue_.front().enqueued + max_queue_delay_;
  head.dispatch = full || draining || now >= due;
  if (!head.dispatch) head.wake_at = due;
  return head;
}

void BatchQueue::Take(size_t count, std::vector<QueuedRequest>* out) {
  for (size_t i = 0; i < count && !queue_.empty(); ++i) {
    rows_ -= queue_.front().inputs.rows;
    out->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

}  // namespace fabrique::serving
