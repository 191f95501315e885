import NIOCore
@testable import PortcullisServer
import Testing
@testable import PortcullisDataPath
@testable import PortcullisControlPlane
@testable import PortcullisDevelopment

@Suite("HTTP/1.1 connection deadlines")
struct ConnectionTimeoutStateMachineTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("idle until bytes arrive, then the header deadline, then nothing while busy")
    func lifecycle() {
        var machine = HTTP1ConnectionTimeoutStateMachine(idleTimeout: .seconds(60), headerTimeout: .seconds(10), now: start)
        #expect(machine.deadline == start + .seconds(60))
        #expect(machine.bytesReceived(now: start + .seconds(5)) == .schedule(start + .seconds(15)))
        #expect(machine.bytesReceived(now: start + .seconds(6)) == .none)
        #expect(machine.requestHeadReceived() == .cancelTimer)
        #expect(machine.deadline == nil)
        #expect(machine.responseCompleted(now: start + .seconds(20)) == .schedule(start + .seconds(80)))
    }

    @Test("the timer closes the connection only when a deadline passed")
    func timer() {
        var machine = HTTP1ConnectionTimeoutStateMachine(idleTimeout: .seconds(60), headerTimeout: .seconds(10), now: start)
        _ = machine.bytesReceived(now: start)
        #expect(machine.timerFired(now: start + .seconds(5)) == .schedule(start + .seconds(10)))
        #expect(machine.timerFired(now: start + .seconds(10)) == .close)
        #expect(machine.state == .closed)
    }

    @Test("a busy connection never times out here; pipelined requests keep it busy")
    func pipelining() {
        var machine = HTTP1ConnectionTimeoutStateMachine(idleTimeout: .seconds(60), headerTimeout: .seconds(10), now: start)
        _ = machine.requestHeadReceived()
        _ = machine.requestHeadReceived()
        #expect(machine.timerFired(now: start + .seconds(3_600)) == .none)
        #expect(machine.responseCompleted(now: start) == .none)
        #expect(machine.responseCompleted(now: start) == .schedule(start + .seconds(60)))
    }
}
