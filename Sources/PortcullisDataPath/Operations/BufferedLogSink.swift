import Foundation
import Synchronization

/// Where log lines go: appended to a buffer under a lock and written by a background thread,
/// so an event loop never waits on stdout or a log file.
package final class BufferedLogSink: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
    }

    private let state = Mutex(State())
    private let handle: FileHandle
    /// Beyond this much unwritten output, new lines are dropped (and counted) rather than
    /// letting memory grow without bound when the output is stuck.
    private let capacity: Int
    private let wake = DispatchSemaphore(value: 0)

    package static let standardOutput = BufferedLogSink(handle: .standardOutput)
    package static let standardError = BufferedLogSink(handle: .standardError)

    package init(handle: FileHandle, capacity: Int = 8 * 1_048_576) {
        self.handle = handle
        self.capacity = capacity
        let wake = self.wake
        let thread = Thread { [weak self] in
            while true {
                _ = wake.wait(timeout: .now() + .milliseconds(100))
                guard let sink = self else { return }
                sink.drain()
            }
        }
        thread.name = "portcullis-log-writer"
        thread.start()
    }

    package func write(_ line: String) {
        let shouldWake = state.withLock { state -> Bool in
            guard state.buffer.count < capacity else {
                state.dropped += 1
                return false
            }
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(0x0A)
            return state.buffer.count > 65_536
        }
        if shouldWake { wake.signal() }
    }

    /// Writes out everything buffered (also used at shutdown).
    package func drain() {
        let (bytes, dropped) = state.withLock { state -> ([UInt8], Int) in
            defer {
                state.buffer.removeAll(keepingCapacity: true)
                state.dropped = 0
            }
            return (state.buffer, state.dropped)
        }
        var output = bytes
        if dropped > 0 {
            output.append(contentsOf: "{\"level\":\"warning\",\"message\":\"log output fell behind; \(dropped) lines dropped\"}\n".utf8)
        }
        guard !output.isEmpty else { return }
        handle.write(Data(output))
    }
}
