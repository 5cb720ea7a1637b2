/*
 * Runs one real Elasticsearch node inside this JVM, for Dossier's tests (scripts/elasticsearch/start.sh).
 *
 *   java -cp classes:lib/* dossier.elasticsearch.DossierElasticsearchNode PORT DATA_DIR
 *
 * The node is org.elasticsearch.node.Node from the server jar on Maven Central
 * (org.elasticsearch:elasticsearch), with two plugins loaded from the class path by
 * ClasspathPluginsLoader: transport-netty4 (org.elasticsearch.plugin:transport-netty4, HTTP and
 * transport) and DossierAnalysisPlugin (the analysis-common filters Dossier's index settings use;
 * that module is not on Maven Central). No x-pack: no security, no licence, no ML.
 *
 * Settings: DATA_DIR/config/elasticsearch.yml (start.sh writes it), then the ones below, which win:
 * 127.0.0.1 only, http.port PORT, single-node discovery, paths under DATA_DIR.
 *
 * This is not Elasticsearch's own launcher (org.elasticsearch.bootstrap.Elasticsearch), which
 * needs the distribution's layout (lib/, modules/, the CLI's server-args handshake on stdin) and
 * installs the entitlement agent. So what that launcher does around the node is not done here:
 * no entitlements (the 8.18+ replacement of the security manager), no bootstrap checks (a node
 * on loopback skips them anyway), no seccomp filter, no mlockall. What runs is the node itself.
 *
 * Also: SIGTERM/SIGINT close the node cleanly (shutdown hook); with -Ddossier.parent.pid=PID the
 * node closes and the JVM exits when that process is gone; a node that fails to start prints why
 * and exits 1.
 */
package dossier.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.Build;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.ClasspathPluginsLoader;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.transport.netty4.Netty4Plugin;

public final class DossierElasticsearchNode {

    private DossierElasticsearchNode() {
    }

    public static void main(final String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DossierElasticsearchNode PORT DATA_DIR");
            System.exit(2);
        }
        final int port = Integer.parseInt(args[0]);
        final Path data = Path.of(args[1]).toAbsolutePath();
        final Path config = data.resolve("config");

        final Settings.Builder settings = Settings.builder();
        final Path yml = config.resolve("elasticsearch.yml");
        if (Files.exists(yml)) {
            settings.loadFromPath(yml);
        }
        settings
            .put("path.home", data.resolve("home").toString())
            .put("path.data", data.resolve("data").toString())
            .put("path.logs", data.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("discovery.type", "single-node");
        if (settings.get("cluster.name") == null) {
            settings.put("cluster.name", "dossier-test");
        }
        if (settings.get("node.name") == null) {
            settings.put("node.name", "dossier-es-" + port);
        }
        final Settings nodeSettings = settings.build();

        final Environment environment = new Environment(nodeSettings, config);
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeSettings.get("node.name"));
        LogConfigurator.configure(environment, true);

        final List<Class<? extends Plugin>> plugins = List.of(Netty4Plugin.class, DossierAnalysisPlugin.class, DossierRootPlugin.class);
        final PluginsLoader loader = ClasspathPluginsLoader.of(data.resolve("home").resolve("modules"),
            Build.current().version(), plugins);

        final Node node;
        try {
            node = new Node(environment, loader);
            node.start();
        } catch (final Throwable e) {
            System.err.println("DossierElasticsearchNode: the Elasticsearch node failed to start");
            e.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(1);
            return;
        }

        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.prepareForClose();
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (final IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "dossier-elasticsearch-shutdown"));

        final String parent = System.getProperty("dossier.parent.pid", "");
        if (!parent.isEmpty()) {
            watchParent(Long.parseLong(parent));
        }
        System.out.println("DossierElasticsearchNode: node started, Elasticsearch " + Build.current().version()
            + " on http://127.0.0.1:" + port);
        System.out.flush();
        closed.await();
    }

    private static void watchParent(final long pid) {
        final Thread watcher = new Thread(() -> {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(1000);
                } catch (final InterruptedException e) {
                    return;
                }
            }
            System.err.println("DossierElasticsearchNode: parent process " + pid + " is gone; closing the node");
            System.exit(0); // runs the shutdown hook, which closes the node
        }, "dossier-elasticsearch-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
