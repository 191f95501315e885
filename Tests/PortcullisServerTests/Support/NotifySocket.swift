import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket standing in for systemd's notification socket.
final class NotifySocket: Sendable {
    let path: String
    private let descriptor: Int32
    private let file: String?

    init(abstract: Bool = false) throws {
        let name = "portcullis-notify-\(UUID().uuidString.prefix(8))"
        file = abstract ? nil : FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        path = file ?? "@" + name
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path) ?? 2) + socklen_t(bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw TestFailure("bind \(path): \(errno)") }
    }

    /// The next datagram, polling without blocking a thread.
    func next(timeout: Duration = .seconds(10)) async -> String? {
        let start = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while ContinuousClock.now - start < timeout {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { return String(decoding: buffer[0..<count], as: UTF8.self) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func close() {
        _ = Glibc.close(descriptor)
        if let file { try? FileManager.default.removeItem(atPath: file) }
    }
}
