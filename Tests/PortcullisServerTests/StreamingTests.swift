import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import Testing

extension ServerTests {
@Suite("Streaming bodies")
struct StreamingTests {
    static let size = 100 * 1_048_576

    /// A body produced piece by piece, never held whole.
    struct PatternBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let total: Int
        let chunk = ByteBuffer(repeating: UInt8(ascii: "u"), count: 65_536)

        struct AsyncIterator: AsyncIteratorProtocol {
            var remaining: Int
            let chunk: ByteBuffer
            mutating func next() async -> ByteBuffer? {
                guard remaining > 0 else { return nil }
                let size = Swift.min(remaining, chunk.readableBytes)
                remaining -= size
                return chunk.getSlice(at: 0, length: size)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: total, chunk: chunk) }

        var sha256: String {
            var hasher = SHA256()
            var remaining = total
            let bytes = [UInt8](repeating: UInt8(ascii: "u"), count: 65_536)
            while remaining > 0 {
                let size = Swift.min(remaining, bytes.count)
                hasher.update(data: bytes[0..<size])
                remaining -= size
            }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    @Test("a 100 MiB upload streams through, over HTTP/1.1 and HTTP/2", arguments: [true, false])
    func upload(http1: Bool) async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let body = PatternBody(total: Self.size)
        var request = HTTPClientRequest(url: gateway.url("/echo"))
        request.method = .POST
        request.body = .stream(body, length: .known(Int64(Self.size)))
        let response = try await (http1 ? gateway.http1Client : gateway.client).execute(request, timeout: .seconds(120))
        #expect(response.status == .ok)
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(buffer: try await response.body.collect(upTo: 1_048_576)))
        #expect(echo.bodyBytes == Self.size)
        #expect(echo.bodySHA256 == body.sha256)
    }

    @Test("a chunked upload of unknown length streams through")
    func chunkedUpload() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let body = PatternBody(total: 3 * 1_048_576 + 17)
        var request = HTTPClientRequest(url: gateway.url("/echo"))
        request.method = .PUT
        request.body = .stream(body, length: .unknown)
        let response = try await gateway.http1Client.execute(request, timeout: .seconds(60))
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(buffer: try await response.body.collect(upTo: 1_048_576)))
        #expect(echo.bodyBytes == body.total)
        #expect(echo.bodySHA256 == body.sha256)
        #expect(echo.values("transfer-encoding") == ["chunked"])
    }

    @Test("a 100 MiB download streams through, over HTTP/1.1 and HTTP/2", arguments: [true, false])
    func download(http1: Bool) async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let request = HTTPClientRequest(url: gateway.url("/download?bytes=\(Self.size)"))
        let response = try await (http1 ? gateway.http1Client : gateway.client).execute(request, timeout: .seconds(120))
        #expect(response.status == .ok)
        var received = 0
        var wrong = 0
        // Compared a block at a time: a byte-by-byte check of 100 MiB takes minutes in a debug
        // build, far longer than the transfer.
        let expected = [UInt8](repeating: UInt8(ascii: "d"), count: 65_536)
        for try await buffer in response.body {
            received += buffer.readableBytes
            buffer.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let length = min(expected.count, bytes.count - offset)
                    if memcmp(base + offset, expected, length) != 0 { wrong += 1 }
                    offset += length
                }
            }
        }
        #expect(received == Self.size)
        #expect(wrong == 0)
    }

    @Test("a client that resets mid-upload does not wedge the gateway")
    func clientResetMidBody() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        for _ in 0..<5 {
            let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
            try await client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000000\r\n\r\n" + String(repeating: "x", count: 100_000))
            await client.close()
        }
        for _ in 0..<5 {
            let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
            try await client.send("GET /download?bytes=50000000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            _ = await client.wait { $0.count > 100_000 }
            await client.close()
        }
        // Still healthy.
        let echo = try await gateway.echo()
        #expect(echo.method == "GET")
    }
}
}
