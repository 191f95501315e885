import NIOCore

/// Deadlines of one HTTP/1.1 connection, as a pure state machine:
/// - idle (no request in flight): the next request must start within `idleTimeout`;
/// - reading a head: once its first byte arrives it must be complete within `headerTimeout`,
///   so a client that trickles headers (slowloris) is cut off;
/// - busy (a request in flight): no deadline here; upstream timeouts apply.
struct HTTP1ConnectionTimeoutStateMachine {
    enum State: Equatable {
        case idle(deadline: NIODeadline)
        case readingHead(deadline: NIODeadline)
        case busy
        case closed
    }

    enum Action: Equatable {
        case none
        /// (Re)arm the timer for this deadline.
        case schedule(NIODeadline)
        case cancelTimer
        case close
    }

    let idleTimeout: TimeAmount
    let headerTimeout: TimeAmount
    private(set) var state: State
    /// Requests whose head arrived and whose response has not finished (pipelining).
    private var requestsInFlight = 0

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount, now: NIODeadline) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        state = .idle(deadline: now + idleTimeout)
    }

    var deadline: NIODeadline? {
        switch state {
        case .idle(let deadline), .readingHead(let deadline): deadline
        case .busy, .closed: nil
        }
    }

    /// Raw bytes arrived from the client.
    mutating func bytesReceived(now: NIODeadline) -> Action {
        switch state {
        case .idle:
            let deadline = now + headerTimeout
            state = .readingHead(deadline: deadline)
            return .schedule(deadline)
        case .readingHead, .busy, .closed:
            return .none
        }
    }

    /// A complete request head was decoded.
    mutating func requestHeadReceived() -> Action {
        requestsInFlight += 1
        switch state {
        case .idle, .readingHead:
            state = .busy
            return .cancelTimer
        case .busy, .closed:
            return .none
        }
    }

    /// A response finished (its end was written).
    mutating func responseCompleted(now: NIODeadline) -> Action {
        requestsInFlight = max(0, requestsInFlight - 1)
        guard case .busy = state, requestsInFlight == 0 else { return .none }
        let deadline = now + idleTimeout
        state = .idle(deadline: deadline)
        return .schedule(deadline)
    }

    /// The timer fired. Before the deadline (it moved later), re-arm for the deadline.
    mutating func timerFired(now: NIODeadline) -> Action {
        guard let deadline, now >= deadline else {
            return deadline.map(Action.schedule) ?? .none
        }
        state = .closed
        return .close
    }
}
