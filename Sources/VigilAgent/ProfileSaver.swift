import Logging
import ServiceLifecycle
import VigilCore
import VigilProfiles

/// Saves changed profiles to the store at an interval while an engine learns, so a crash loses at most
/// one interval of learning; saves what is left once the engine has stopped.
///
/// Run it in the same `ServiceGroup` as the engine, listed before the engine: a group shuts its services
/// down in reverse order, so the engine drains first and the final save sees everything it learned.
public struct ProfileSaver: Service {
    /// The profiles.
    public let book: ProfileBook
    /// Where they are saved.
    public let store: any ProfileStore
    /// How often changed profiles are saved.
    public let interval: Duration
    private let logger: Logger

    /// Creates a saver.
    public init(book: ProfileBook, store: any ProfileStore, interval: Duration = .seconds(30), logger: Logger) {
        self.book = book
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await save(await book.snapshot())
            }
        }
        // Shutting down: the engine has drained (it shuts down first), so the book can be read directly.
        await save(book.storedProfiles(at: WallClock.now(), onlyChanged: true))
    }

    private func save(_ profiles: [StoredProfile]) async {
        guard !profiles.isEmpty else { return }
        do {
            try await store.save(profiles)
            logger.debug("saved profiles", metadata: ["count": "\(profiles.count)"])
        } catch {
            logger.error("could not save profiles", metadata: ["count": "\(profiles.count)", "error": "\(error)"])
        }
    }
}
