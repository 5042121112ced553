import Glibc
import Testing
@testable import SSEKeeperIO

/// `SocketAddress.host` formats IPv4 itself (not through `inet_ntop`, whose `sprintf` showed in the new-stream
/// profile): it must write exactly what `inet_ntop` writes, for every kind of octet.
struct SocketAddressTests {
    static func inetNtop(_ address: UInt32) -> String {
        var raw = in_addr(s_addr: address.bigEndian)
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        _ = inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func dottedQuad_writesWhatInetNtopWrites_forEdgeOctetsAndRandomAddresses() {
        var addresses: [UInt32] = [0, 0xffff_ffff, 0x7f00_0001, 0x0a00_0009, 0x0a0a_6464, 0x6463_0a09, 0xc0a8_01fe]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { addresses.append(UInt32.random(in: .min ... .max, using: &generator)) }
        for address in addresses {
            #expect(SocketAddress.dottedQuad(address) == Self.inetNtop(address))
        }
    }

    @Test func hostAndDescription_ofResolvedAddresses_forIPv4AndIPv6() throws {
        let v4 = try #require(try SocketAddress.resolve(host: "192.168.10.200", port: 8080).first)
        #expect(v4.host == "192.168.10.200")
        #expect(v4.description == "192.168.10.200:8080")
        #expect(v4.description(host: v4.host) == v4.description)
        let v6 = try #require(try SocketAddress.resolve(host: "::1", port: 443).first)
        #expect(v6.host == "::1")
        #expect(v6.description == "[::1]:443")
    }
}
