#include "runtime/storage_worker.h"

#include <exception>

namespace chaosbench::targets {

StorageWorker::StorageWorker(boost::asio::io_context& io_context, std::function<void()> sync)
    : io_context_(io_context), sync_(std::move(sync)), thread_([this] { run(); }) {}

StorageWorker::~StorageWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void StorageWorker::submit(std::function<void()> stage, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Job{std::move(stage), std::move(done)});
  }
  wake_.notify_one();
}

void StorageWorker::run() {
  while (true) {
    std::deque<Job> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
    }
    std::exception_ptr error;
    try {
      for (auto& job : batch) {
        if (job.stage) job.stage();
      }
      sync_();
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      // Moved, not copied, once the catch block has let go of the exception:
      // this thread keeps no reference, so the io thread owns it alone.
      boost::asio::post(io_context_, [error = std::move(error)] { std::rethrow_exception(error); });
      return;  // storage is broken: complete nothing more
    }
    boost::asio::post(io_context_, [jobs = std::move(batch)]() mutable {
      for (auto& job : jobs) job.done();
    });
  }
}

}  // namespace chaosbench::targets
