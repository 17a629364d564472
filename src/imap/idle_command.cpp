// IDLE (RFC 2177): a long poll on the storage daemon runs beside the wait for DONE;
// changes are sent as they come, and DONE cancels the poll before the tagged reply.
#include "imap/session.h"
#include "lib/async_signal.h"
#include "lib/strings.h"

namespace loft::imap {

Task<void> ImapSession::cmd_idle(const Command& command, Clock::time_point started)
{
    if (!command.args.empty()) {
        bad(command, "Invalid arguments", started);
        co_return;
    }
    send("+ idling\r\n");
    if (state_ == State::Selected)
        co_await sync_selected(true);
    flush_highest_modseq();
    co_await stream_->drain();

    auto done = std::make_shared<bool>(false);
    auto finished = std::make_shared<AsyncSignal>();
    if (selected_) {
        auto self = shared_from_this();
        int64_t view = selected_->view;
        spawn(
            [](std::shared_ptr<ImapSession> session, int64_t view_id, std::shared_ptr<bool> stop,
               std::shared_ptr<AsyncSignal> signal) -> Task<void> {
                try {
                    while (!*stop && session->selected_ && session->selected_->view == view_id) {
                        rpc::ViewChanges changes = co_await session->storage_->wait_changes(
                            session->storage_session_, view_id, session->settings_.idle_notify_interval);
                        bool any = !changes.expunged.empty() || !changes.added.empty() || !changes.changed.empty();
                        if (any) {
                            session->report_changes(changes, true);
                            session->flush_highest_modseq();
                        }
                        else if (!*stop)
                            session->untagged("OK Still here");
                    }
                } catch (const std::exception& error) {
                    session->log_.error(std::string("IDLE: waiting for changes failed: ") + error.what());
                }
                signal->set();
            }(self, view, done, finished),
            {});
    } else {
        finished->set();
    }

    std::optional<std::string> line = co_await read_continuation_line();
    *done = true;
    if (selected_ && !finished->is_set() && storage_->connected()) {
        try {
            co_await storage_->cancel_wait(storage_session_, selected_->view);
        } catch (const std::exception&) {
        }
    }
    co_await finished->wait();
    if (!line) {
        state_ = State::Logout;
        co_return;
    }
    if (!iequals(*line, "DONE")) {
        tagged(command.tag, "BAD", "", "Expected DONE.", started);
        co_return;
    }
    tagged(command.tag, "OK", "", "Idle completed", started);
}

}  // namespace loft::imap
