package neuron.engine.chain.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeed;
import neuron.engine.chain.ChainFollower;
import neuron.engine.chain.Feeds;
import neuron.engine.network.Hash32;
import neuron.engine.testing.Deadline;
import org.junit.jupiter.api.Test;

class ChainLocalFeedTest {

    @Test
    void deliversBlocksInOrderFromGenesisWithLinkedHashes() throws Exception {
        try (BlockFeed feed = BlockFeeds.open("local", 2, null)) {
            List<BlockEvent> events = Feeds.take(feed, 30);
            Feeds.assertConsecutive(0, events);
            assertEquals(Hash32.ZERO, events.get(0).block().parentHash());
            for (int i = 1; i < events.size(); i++) {
                assertEquals(events.get(i - 1).block().hash(), events.get(i).block().parentHash());
                assertFalse(events.get(i).reorg());
            }
        }
    }

    @Test
    void aSlowConsumerGetsEveryBlockByNumber() throws Exception {
        try (BlockFeed feed = BlockFeeds.open("local", 1, null)) {
            Feeds.take(feed, 1);
            Thread.sleep(30); // the head runs ahead by dozens of blocks
            Feeds.assertConsecutive(1, Feeds.take(feed, 40));
        }
    }

    @Test
    void theSameSeedGivesTheSameChainAndResumingContinuesIt() throws Exception {
        List<BlockEvent> first;
        try (BlockFeed feed = BlockFeeds.open("local", 1, null)) {
            first = Feeds.take(feed, 20);
        }
        Block resumeAfter = first.get(9).block();
        try (BlockFeed feed = BlockFeeds.open("local", 1, resumeAfter)) {
            List<BlockEvent> resumed = Feeds.take(feed, 10);
            assertEquals(first.subList(10, 20), resumed);
            assertEquals(first.get(19).block(), feed.lastDelivered());
        }
    }

    @Test
    void aReorganisationRollsBackToTheCommonAncestor() throws Exception {
        LocalChain chain = new LocalChain("reorg-test", 100, 0);
        try (BlockFeed feed = new ChainFollower(chain, List.of())) {
            List<BlockEvent> before = new ArrayList<>(Feeds.take(feed, 3));
            long from = feed.lastDelivered().number();
            Deadline notFinal = Deadline.in(Feeds.PATIENCE);
            while (!Feeds.reorganised(chain, from)) {
                // a busy machine delivered the block only once it was final: fork at the next one
                notFinal.check(() -> "a delivered block that is not final yet, to fork at");
                before.addAll(Feeds.take(feed, 1));
                from = feed.lastDelivered().number();
            }
            BlockEvent next = feed.next(Feeds.PATIENCE);
            assertTrue(next.reorg(), "the first block of the new branch is flagged: " + next);
            assertEquals(from, next.number(), "it replaces the delivered block it forks at");
            assertEquals(before.get(before.size() - 2).block().hash(), next.block().parentHash());
            List<BlockEvent> after = Feeds.take(feed, 3);
            after.forEach(e -> assertFalse(e.reorg()));
            Feeds.assertConsecutive(next.number() + 1, after);
        }
    }

    @Test
    void finalBlocksCannotBeReplacedAndDifferentSeedsAreDifferentChains() {
        LocalChain chain = new LocalChain("final-test", 1, 50);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> chain.reorganise(chain.finalizedHead()));
        assertTrue(e.getMessage().contains("final"), e.getMessage());
        assertFalse(new LocalChain("other", 1, 0).block(0).equals(chain.block(0)));
        assertEquals(chain.block(10), new LocalChain("final-test", 1, 0).block(10), "same seed, same blocks");
    }

    @Test
    void aResumePointOnAnotherBranchIsAReorg() throws Exception {
        Block foreign = new Block(4, Hash32.sha256("elsewhere".getBytes()), Hash32.ZERO);
        try (BlockFeed feed = new ChainFollower(new LocalChain("x", 1, 0), List.of(foreign))) {
            BlockEvent next = feed.next(Feeds.PATIENCE);
            assertEquals(5, next.number());
            assertTrue(next.reorg());
        }
    }

    @Test
    void nextReturnsNullWhenNoBlockComesInTime() throws Exception {
        try (BlockFeed feed = BlockFeeds.open("local", 60_000, null)) {
            assertEquals(0, feed.next(Feeds.PATIENCE).number());
            assertNull(feed.next(Duration.ofMillis(20)));
        }
    }

    @Test
    void unknownChainSpecsAreRefusedWithTheAcceptedForms() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BlockFeeds.open("http://x:1", 5, null));
        assertTrue(e.getMessage().contains("'local' or ws://HOST:PORT"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockFeeds.open("ws://nohostport", 5, null));
    }

    @Test
    void hashesRoundTripThroughHex() {
        Hash32 h = Hash32.sha256("x".getBytes());
        assertEquals(h, Hash32.parseHex(h.toHex()));
        assertTrue(h.toHex().startsWith("0x"));
        assertThrows(IllegalArgumentException.class, () -> Hash32.parseHex("0x12"));
    }
}
