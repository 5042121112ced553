import Testing
@testable import SSEKeeperIO

/// `SessionTable`: the loop's live sessions by the slot each one keeps.
struct SessionTableTests {
    final class Session: LoopSession {
        var deadlineSlot = -1
        var sessionSlot = -1
        func deadlineReached(_ deadline: UInt64, now: UInt64) {}
    }

    @Test func insertAndRemove_keepTheCountAndTheSessions_andReuseFreedSlots() {
        var table = SessionTable()
        let sessions = (0..<5).map { _ in Session() }
        for session in sessions { table.insert(session) }
        #expect(table.count == 5)
        #expect(Set(sessions.map(\.sessionSlot)) == Set(0..<5))
        table.remove(sessions[1])
        table.remove(sessions[3])
        #expect(table.count == 3)
        #expect(sessions[1].sessionSlot == -1 && !table.contains(sessions[1]))
        let values = table.values
        #expect(values.count == 3)
        #expect([0, 2, 4].allSatisfy { index in values.contains { $0 === sessions[index] } })
        let later = Session()
        table.insert(later)
        #expect([1, 3].contains(later.sessionSlot), "a freed slot is reused")
        #expect(table.count == 4 && table.contains(later))
    }

    @Test func insertingTwice_andRemovingTwiceOrWhatIsNotThere_changeNothing() {
        var table = SessionTable()
        let session = Session()
        table.insert(session)
        table.insert(session)
        #expect(table.count == 1)
        table.remove(session)
        table.remove(session)
        #expect(table.count == 0)
        table.remove(Session())
        #expect(table.count == 0 && table.values.isEmpty)
    }

    @Test func aSlotNumberFromAnotherTable_isNotMembership() {
        var first = SessionTable(), second = SessionTable()
        let a = Session(), b = Session()
        first.insert(a)
        second.insert(b)
        #expect(a.sessionSlot == b.sessionSlot)
        #expect(!second.contains(a))
        second.remove(a)  // not second's: b stays
        #expect(second.count == 1 && second.contains(b))
    }

    @Test func randomInsertsAndRemoves_matchASetOfIdentities() {
        var table = SessionTable()
        var model = Set<ObjectIdentifier>()
        let pool = (0..<40).map { _ in Session() }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let session = pool[Int.random(in: 0..<pool.count, using: &random)]
            if Bool.random(using: &random) {
                table.insert(session)
                model.insert(ObjectIdentifier(session))
            } else {
                table.remove(session)
                model.remove(ObjectIdentifier(session))
            }
            #expect(table.count == model.count)
        }
        #expect(Set(table.values.map { ObjectIdentifier($0) }) == model)
    }
}
