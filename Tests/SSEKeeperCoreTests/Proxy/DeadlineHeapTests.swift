import Testing
@testable import SSEKeeperCore

struct DeadlineHeapTests {
    /// A member as the shell's targets are: a class that keeps its slot.
    final class Member: DeadlineHeapMember {
        let name: Int
        var heapSlot = -1
        init(_ name: Int) { self.name = name }
    }

    /// Every member's handle leads to its own entry, and every entry is in heap order.
    static func checkInvariants(_ heap: DeadlineHeap<Member>) {
        for (index, entry) in heap.entries.enumerated() {
            #expect(entry.payload.heapSlot == entry.handle)
            #expect(heap.positions[entry.handle] == index)
            if index > 0 { #expect(heap.entries[DeadlineHeap<Member>.parent(of: index)].deadline <= entry.deadline) }
        }
    }

    @Test func entries_popInDeadlineOrder_onlyOnceExpired_andLeaveTheHeap() {
        var heap = DeadlineHeap<Member>()
        let (a, b, c, d) = (Member(1), Member(2), Member(3), Member(4))
        heap.insert(c, at: 30)
        heap.insert(a, at: 10)
        heap.insert(b, at: 20)
        heap.insert(d, at: 10)
        #expect(heap.earliest == 10)
        #expect(heap.popExpired(now: 9) == nil)
        var popped: [Int] = []
        while let entry = heap.popExpired(now: 20) {
            popped.append(entry.payload.name)
            #expect(entry.payload.heapSlot == -1)
        }
        #expect(popped.sorted() == [1, 2, 4])
        #expect(heap.count == 1)
        #expect(heap.popExpired(now: 30)?.payload.name == 3)
        #expect(heap.isEmpty)
        #expect(heap.earliest == nil)
    }

    @Test func schedulingAMemberAgain_movesItsOneEntry_earlierOrLater() {
        var heap = DeadlineHeap<Member>()
        let members = (0..<8).map(Member.init)
        for member in members { heap.insert(member, at: UInt64(100 + member.name)) }
        heap.insert(members[5], at: 1)
        #expect(heap.count == 8)
        #expect(heap.earliest == 1)
        heap.insert(members[5], at: 500)
        #expect(heap.count == 8)
        #expect(heap.deadline(of: members[5]) == 500)
        #expect(heap.earliest == 100)
        Self.checkInvariants(heap)
        var order: [Int] = []
        while let entry = heap.popExpired(now: .max) { order.append(entry.payload.name) }
        #expect(order == [0, 1, 2, 3, 4, 6, 7, 5])
    }

    @Test func removingMembers_fromAnyPosition_keepsTheRestInOrder() {
        var heap = DeadlineHeap<Member>()
        let members = (0..<64).map(Member.init)
        for member in members { heap.insert(member, at: UInt64((member.name * 37) % 64)) }
        for member in members where member.name % 3 == 0 {
            heap.remove(member)
            #expect(member.heapSlot == -1)
            Self.checkInvariants(heap)
        }
        heap.remove(members[0])  // already out: nothing happens
        #expect(heap.count == 64 - 22)
        var previous: UInt64 = 0
        var names: [Int] = []
        while let entry = heap.popExpired(now: .max) {
            #expect(entry.deadline >= previous)
            previous = entry.deadline
            names.append(entry.payload.name)
        }
        #expect(names.sorted() == members.map(\.name).filter { $0 % 3 != 0 })
    }

    @Test func randomSchedulesMovesRemovesAndPops_matchAModel() {
        var heap = DeadlineHeap<Member>()
        let members = (0..<200).map(Member.init)
        var model: [Int: UInt64] = [:]
        var generator = SystemRandomNumberGenerator()
        var now: UInt64 = 0
        for _ in 0..<20_000 {
            let member = members[Int.random(in: 0..<members.count, using: &generator)]
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<5:
                let deadline = now + UInt64.random(in: 0..<1_000, using: &generator)
                heap.insert(member, at: deadline)
                model[member.name] = deadline
            case 5..<7:
                heap.remove(member)
                model[member.name] = nil
            default:
                now += UInt64.random(in: 0..<50, using: &generator)
                while let entry = heap.popExpired(now: now) {
                    #expect(model[entry.payload.name] == entry.deadline)
                    #expect(entry.deadline <= now)
                    model[entry.payload.name] = nil
                }
                #expect(model.values.allSatisfy { $0 > now })
            }
            #expect(heap.count == model.count)
        }
        Self.checkInvariants(heap)
        for member in members { #expect(heap.deadline(of: member) == model[member.name]) }
    }

    /// The sifts move entries with unsafe moves: the heap must hold exactly one reference per entry, so a member
    /// it holds outlives every other reference and one it let go of is freed.
    @Test func theHeapHoldsOneReferencePerEntry_andLetsGoOfWhatLeavesIt() {
        var heap = DeadlineHeap<Member>()
        var weakMembers: [WeakMember] = []
        do {
            let members = (0..<300).map(Member.init)
            weakMembers = members.map(WeakMember.init)
            for member in members { heap.insert(member, at: UInt64((member.name * 7919) % 1_000)) }
            for member in members where member.name % 4 == 0 { heap.insert(member, at: 5_000 - UInt64(member.name)) }
            for member in members where member.name % 5 == 0 { heap.remove(member) }
            while heap.count > 150, heap.popExpired(now: .max) != nil {}
            Self.checkInvariants(heap)
        }
        let held = Set(heap.entries.map { $0.payload.name })
        #expect(held.count == 150)
        for weak in weakMembers {
            #expect((weak.member != nil) == held.contains(weak.name), "member \(weak.name)")
        }
        while heap.popExpired(now: .max) != nil {}
        #expect(weakMembers.allSatisfy { $0.member == nil })
    }

    /// Handles are reused: the table of positions grows to the most members scheduled at once, not with every
    /// schedule, however long the heap runs.
    @Test func handles_areReused_soThePositionsTableStaysAsLargeAsTheMostMembersScheduledAtOnce() {
        var heap = DeadlineHeap<Member>()
        let members = (0..<50).map(Member.init)
        var now: UInt64 = 0
        for round in 0..<2_000 {
            let member = members[(round * 7) % members.count]
            if round % 3 == 0 { heap.remove(member) } else { heap.insert(member, at: now + UInt64(round % 97)) }
            if round % 11 == 0 {
                now += 40
                while heap.popExpired(now: now) != nil {}
            }
            #expect(heap.positions.count <= members.count)
        }
        Self.checkInvariants(heap)
        let scheduled = members.filter { $0.heapSlot >= 0 }
        #expect(scheduled.count == heap.count)
        #expect(Set(scheduled.map(\.heapSlot)).count == scheduled.count, "no two members share a handle")
        while heap.popExpired(now: .max) != nil {}
        #expect(members.allSatisfy { $0.heapSlot == -1 })
        for member in members { heap.insert(member, at: 1) }
        #expect(heap.positions.count == members.count, "every handle was free again and is taken again")
    }

    struct WeakMember {
        let name: Int
        weak var member: Member?
        init(_ member: Member) {
            name = member.name
            self.member = member
        }
    }
}

struct RouterTests {
    static let settings = StreamSettings()

    @Test func theLongestMatchingPrefix_wins_regardlessOfDeclarationOrder() {
        let router = Router(routes: [
            Route(prefix: "/", upstreamName: "root", settings: Self.settings),
            Route(prefix: "/api/stream/", upstreamName: "stream", settings: Self.settings),
            Route(prefix: "/api/", upstreamName: "api", settings: Self.settings),
        ])
        #expect(router.route(forPath: "/api/stream/42")?.upstreamName == "stream")
        #expect(router.route(forPath: "/api/stream")?.upstreamName == "api")
        #expect(router.route(forPath: "/api/")?.upstreamName == "api")
        #expect(router.route(forPath: "/other")?.upstreamName == "root")
    }

    /// `match` gives the route and its position in `routesInMatchOrder`, where the shell keeps each route's upstream.
    @Test func match_givesTheRoutesPositionInMatchOrder() throws {
        let router = Router(routes: [
            Route(prefix: "/", upstreamName: "root", settings: Self.settings),
            Route(prefix: "/api/stream/", upstreamName: "stream", settings: Self.settings),
            Route(prefix: "/api/", upstreamName: "api", settings: Self.settings),
        ])
        for path in ["/api/stream/42", "/api/x", "/other"] {
            let (route, index) = try #require(router.match(path: path))
            #expect(router.routesInMatchOrder[index] === route)
            #expect(router.route(forPath: path) === route)
        }
        #expect(router.match(path: "*") == nil)
    }

    @Test func aPathMatchingNoRoute_getsNil() {
        let router = Router(routes: [Route(prefix: "/events", upstreamName: "e", settings: Self.settings)])
        #expect(router.route(forPath: "/event") == nil)
        #expect(router.route(forPath: "*") == nil)
        #expect(router.route(forPath: "/eventsource")?.upstreamName == "e", "prefixes match bytes, not path segments")
    }
}

struct AccessLogRecordTests {
    @Test func aRecord_isOneLineOfKeyValuePairs_withUnsafeValuesQuoted() {
        let record = AccessLogRecord(
            client: "127.0.0.1:5000", method: "GET", path: "/a b\"\n", status: 200, bytesSent: 812,
            durationNanos: 12_004_000_000, heartbeatsSent: 3, heartbeatsSkipped: 1, end: .clientClosed,
            upstream: "127.0.0.1:9000", reason: nil)
        #expect(record.line == #"access client=127.0.0.1:5000 method=GET path="/a b\"\x0a" status=200 bytes=812 duration=12.004s heartbeats=3 skipped=1 end=client_closed upstream=127.0.0.1:9000"#)
        #expect(!record.line.contains("\n"))
    }

    @Test func anSSERecord_carriesTheLongestUpstreamGap_beforeTheUpstream() {
        let record = AccessLogRecord(
            client: "c", method: "GET", path: "/e", status: 200, bytesSent: 1, durationNanos: 2_000_000_000,
            heartbeatsSent: 4, heartbeatsSkipped: 0, end: .completed, upstream: "u", reason: nil,
            longestUpstreamGapNanos: 1_500_000_000)
        #expect(record.line.hasSuffix("end=completed upstream_quiet_max=1.500s upstream=u"))
    }
}

struct ErrorResponseTests {
    @Test func anErrorResponse_isShortPlainText_withConnectionClose() {
        let text = String(decoding: ErrorResponse.bytes(status: 502, detail: "upstream api unreachable: Connection refused"), as: UTF8.self)
        let body = "502 Bad Gateway: upstream api unreachable: Connection refused\n"
        #expect(text == "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n" + body)
    }

    @Test func controlCharactersInTheDetail_cannotInjectLines() {
        let text = String(decoding: ErrorResponse.bytes(status: 400, detail: "bad\r\nSet-Cookie: x"), as: UTF8.self)
        #expect(!text.contains("\r\nSet-Cookie"))
        #expect(text.hasSuffix("400 Bad Request: bad  Set-Cookie: x\n"))
    }
}
