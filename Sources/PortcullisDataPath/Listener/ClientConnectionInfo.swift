// `sockaddr_in` and `sockaddr_in6` are declared by every module that includes the socket
// headers; which one the compiler names as their owner depends on the build (NIO's C shim in
// one, Glibc in another), so MemberImportVisibility asks for both.
#if canImport(Glibc)
import CNIOLinux
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import PortcullisCore

/// What is known about a client connection before any request: the TCP peer (or the source
/// a PROXY protocol header gave for it) and the protocol spoken. Shared by the HTTP/2 streams
/// of one connection; read and written only on the connection's event loop.
package final class ClientConnectionInfo {
    package var peer: IPAddress
    package let httpVersion: String
    /// The last signed-in answer, for the connection's next requests with the same credential.
    var lastCredential: CredentialMemo?
    /// The last addresses written as text: the peer, and a client a trusted proxy named.
    private var peerText: (address: IPAddress, text: String)?
    private var clientText: (address: IPAddress, text: String)?

    /// `address` as text; the connection's peer and its last client are formatted once.
    func text(of address: IPAddress) -> String {
        if let peerText, peerText.address == address { return peerText.text }
        if let clientText, clientText.address == address { return clientText.text }
        let text = address.description
        if address == peer { peerText = (address, text) } else { clientText = (address, text) }
        return text
    }

    var isHTTP1: Bool { httpVersion != "2" }

    package init(peer: IPAddress, httpVersion: String) {
        self.peer = peer
        self.httpVersion = httpVersion
    }

    /// The peer of a socket address; an address NIO cannot give us is treated as unspecified.
    static func address(of socketAddress: SocketAddress?) -> IPAddress {
        switch socketAddress {
        case .v4(let address):
            let value = UInt32(bigEndian: address.address.sin_addr.s_addr)
            return IPAddress(ipv4: value)
        case .v6(let address):
            let bytes = withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
            return IPAddress(bytes: bytes) ?? IPAddress(ipv6: 0)
        default:
            return IPAddress(ipv6: 0)
        }
    }
}
