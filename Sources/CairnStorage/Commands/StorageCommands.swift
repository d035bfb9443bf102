// Every command the engine implements, by group. The server adds its own (INFO, CONFIG, CLIENT...).

public enum StorageCommands {
    public static var all: [CommandSpec] {
        ConnectionCommands.specs + StringCommands.specs + BitCommands.specs
            + KeyspaceCommands.specs + DumpRestoreCommands.specs + ExpireCommands.specs + PubSubCommands.specs
            + ListCommands.specs + BlockingListCommands.specs
            + HashCommands.specs + SetCommands.specs
            + SortedSetCommands.specs + BlockingSortedSetCommands.specs
    }
}
