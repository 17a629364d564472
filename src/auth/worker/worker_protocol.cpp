#include "auth/worker/worker_protocol.h"

namespace loft::auth::worker {

namespace {

class Writer {
public:
    void number(uint64_t value)
    {
        for (int shift = 56; shift >= 0; shift -= 8)
            out_ += static_cast<char>((value >> shift) & 0xff);
    }
    void text(std::string_view value)
    {
        number(value.size());
        out_.append(value);
    }
    void fields(const FieldMap& map)
    {
        number(map.size());
        for (const auto& [key, value] : map) {
            text(key);
            text(value);
        }
    }
    std::string frame() const
    {
        if (out_.size() > kMaxWorkerFrame)
            throw WorkerProtocolError("auth worker message too large (" + std::to_string(out_.size()) + " bytes)");
        std::string framed;
        uint32_t size = static_cast<uint32_t>(out_.size());
        for (int shift = 24; shift >= 0; shift -= 8)
            framed += static_cast<char>((size >> shift) & 0xff);
        return framed + out_;
    }

private:
    std::string out_;
};

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    uint64_t number()
    {
        if (in_.size() < 8)
            throw WorkerProtocolError("truncated auth worker message");
        uint64_t value = 0;
        for (int i = 0; i < 8; i++)
            value = (value << 8) | static_cast<unsigned char>(in_[i]);
        in_.remove_prefix(8);
        return value;
    }
    std::string text()
    {
        uint64_t size = number();
        if (size > in_.size())
            throw WorkerProtocolError("truncated auth worker message");
        std::string value(in_.substr(0, size));
        in_.remove_prefix(size);
        return value;
    }
    FieldMap fields()
    {
        uint64_t count = number();
        if (count > kMaxWorkerFields)
            throw WorkerProtocolError("too many fields in an auth worker message");
        FieldMap map;
        for (uint64_t i = 0; i < count; i++) {
            std::string key = text();
            map[key] = text();
        }
        return map;
    }
    void finish() const
    {
        if (!in_.empty())
            throw WorkerProtocolError("trailing bytes in an auth worker message");
    }

private:
    std::string_view in_;
};

}  // namespace

std::string encode_request(const WorkerRequest& request)
{
    Writer out;
    out.number(request.id);
    out.number(static_cast<uint64_t>(request.op));
    out.number(request.db_index);
    out.text(request.request.user);
    out.text(request.request.service);
    out.text(request.request.local_ip);
    out.text(request.request.remote_ip);
    out.text(request.request.home);
    out.number(request.request.secured ? 1 : 0);
    out.fields(request.request.passdb_fields);
    out.text(request.secret);
    return out.frame();
}

WorkerRequest decode_request(std::string_view body)
{
    if (body.size() > kMaxWorkerFrame)
        throw WorkerProtocolError("auth worker message too large");
    Reader in(body);
    WorkerRequest request;
    request.id = in.number();
    uint64_t op = in.number();
    if (op < 1 || op > 3)
        throw WorkerProtocolError("unknown auth worker operation " + std::to_string(op));
    request.op = static_cast<WorkerOp>(op);
    uint64_t index = in.number();
    if (index > UINT32_MAX)
        throw WorkerProtocolError("bad passdb/userdb index");
    request.db_index = static_cast<uint32_t>(index);
    request.request.user = in.text();
    request.request.service = in.text();
    request.request.local_ip = in.text();
    request.request.remote_ip = in.text();
    request.request.home = in.text();
    request.request.secured = in.number() != 0;
    request.request.passdb_fields = in.fields();
    request.secret = in.text();
    in.finish();
    return request;
}

std::string encode_reply(const WorkerReply& reply)
{
    Writer out;
    out.number(reply.id);
    out.number(static_cast<uint64_t>(reply.status));
    out.text(reply.error);
    out.text(reply.credentials);
    out.fields(reply.fields);
    out.number(reply.worker_exits ? 1 : 0);
    return out.frame();
}

WorkerReply decode_reply(std::string_view body)
{
    if (body.size() > kMaxWorkerFrame)
        throw WorkerProtocolError("auth worker message too large");
    Reader in(body);
    WorkerReply reply;
    reply.id = in.number();
    uint64_t status = in.number();
    if (status > 16)
        throw WorkerProtocolError("bad status in an auth worker reply");
    reply.status = static_cast<int>(status);
    reply.error = in.text();
    reply.credentials = in.text();
    reply.fields = in.fields();
    reply.worker_exits = in.number() != 0;
    in.finish();
    return reply;
}

size_t frame_length(std::string_view header)
{
    if (header.size() != kFrameHeader)
        throw WorkerProtocolError("bad auth worker frame header");
    size_t size = 0;
    for (char byte : header)
        size = (size << 8) | static_cast<unsigned char>(byte);
    if (size > kMaxWorkerFrame)
        throw WorkerProtocolError("auth worker frame of " + std::to_string(size) + " bytes is over the limit");
    return size;
}

PassdbStatus passdb_status_of(const WorkerReply& reply)
{
    if (reply.status < 0 || reply.status > static_cast<int>(PassdbStatus::InternalFailure))
        throw WorkerProtocolError("bad passdb status in an auth worker reply");
    return static_cast<PassdbStatus>(reply.status);
}

UserdbStatus userdb_status_of(const WorkerReply& reply)
{
    if (reply.status < 0 || reply.status > static_cast<int>(UserdbStatus::InternalFailure))
        throw WorkerProtocolError("bad userdb status in an auth worker reply");
    return static_cast<UserdbStatus>(reply.status);
}

}  // namespace loft::auth::worker
