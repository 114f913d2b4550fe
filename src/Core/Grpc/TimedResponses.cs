using Grpc.Core;

namespace CastoreFs.Core.Grpc;

/// <summary>
/// A server stream each of whose messages must arrive within the connection's timeout: a large blob may
/// take as long as it needs, a server that stops sending fails the read instead of hanging it.
/// </summary>
public sealed class TimedResponses<T> : IDisposable
    where T : class
{
    private readonly AsyncServerStreamingCall<T> _call;
    private readonly CancellationTokenSource _idle;
    private readonly CancellationToken _caller;
    private readonly GrpcConnection _connection;

    internal TimedResponses(GrpcConnection connection, Func<CallOptions, AsyncServerStreamingCall<T>> start, CancellationToken ct)
    {
        _connection = connection;
        _caller = ct;
        _idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _idle.CancelAfter(connection.Timeout);
        _call = start(new CallOptions(cancellationToken: _idle.Token));
    }

    public T Current => _call.ResponseStream.Current;

    public async Task<bool> MoveNextAsync()
    {
        _idle.CancelAfter(_connection.Timeout);
        try
        {
            return await _call.ResponseStream.MoveNext(_idle.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (_idle.IsCancellationRequested && !_caller.IsCancellationRequested
            && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            throw new TimeoutException($"{_connection.Display}: the store sent nothing for {_connection.Timeout.TotalSeconds} s", e);
        }
    }

    public void Dispose()
    {
        _call.Dispose();
        _idle.Dispose();
    }
}
