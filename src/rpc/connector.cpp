#include "rpc/connector.h"

namespace loft::rpc {

Task<std::shared_ptr<AsyncAuthClient>> Connector::auth()
{
    if (auth_ && auth_->connected())
        co_return auth_;
    UniqueFd fd = co_await control_.connect_auth();
    auth_ = std::make_shared<AsyncAuthClient>(std::make_shared<RpcChannel>(base_, std::move(fd)));
    co_return auth_;
}

Task<std::shared_ptr<AsyncStorageClient>> Connector::storage(std::string grant)
{
    UniqueFd fd = co_await control_.connect_storage(std::move(grant));
    co_return std::make_shared<AsyncStorageClient>(std::make_shared<RpcChannel>(base_, std::move(fd)));
}

}  // namespace loft::rpc
