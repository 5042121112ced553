// Everything lives in SSEKeeperCommand: closures written in top-level code here would be inferred @MainActor
// and trap when Dispatch runs them on another queue (docs/dispatch-history.md).
SSEKeeperCommand.main(Array(CommandLine.arguments.dropFirst()))
