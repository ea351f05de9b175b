// StorageWorker: one background thread that runs storage jobs in submission
// order and group-commits them: it takes every job queued so far, runs their
// staging work, calls the sync function once, then posts each job's completion
// back to the io_context, in order. The event loop keeps serving the network
// while the disk syncs. An exception on the worker is rethrown on the
// io_context thread (so it stops the node, never silently).
#pragma once

#include <boost/asio.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace chaosbench::targets {

class StorageWorker {
 public:
  StorageWorker(boost::asio::io_context& io_context, std::function<void()> sync);
  ~StorageWorker();
  StorageWorker(const StorageWorker&) = delete;
  StorageWorker& operator=(const StorageWorker&) = delete;

  // `stage` runs on the worker thread; `done` runs on the io_context thread
  // after the sync that covers `stage`.
  void submit(std::function<void()> stage, std::function<void()> done);

 private:
  struct Job {
    std::function<void()> stage;
    std::function<void()> done;
  };
  void run();

  boost::asio::io_context& io_context_;
  std::function<void()> sync_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chaosbench::targets
