/*
 * Loads Elasticsearch plugins from the JVM's class path, for Dossier's test node
 * (scripts/elasticsearch/DossierElasticsearchNode.java).
 *
 * An Elasticsearch distribution loads each module (transport-netty4, analysis-common, ...) from
 * its own directory under modules/, in its own class loader and module layer, and the node reads
 * them through a PluginsLoader. Here the modules are plain jars on the class path (from Maven
 * Central), so this PluginsLoader hands the node one "layer" per plugin class whose class loader
 * is the application class loader; PluginsService then instantiates each plugin as usual.
 *
 * It lives in org.elasticsearch.plugins because PluginsLoader's constructor and PluginBundle's are
 * package-private. That works on the class path only (the unnamed module), which is how
 * start.sh runs the node.
 */
package org.elasticsearch.plugins;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

public final class ClasspathPluginsLoader extends PluginsLoader {

    private final List<PluginLayer> layers;

    private ClasspathPluginsLoader(final Set<PluginBundle> modules, final List<PluginLayer> layers) {
        super(modules, Set.of(), Map.of());
        this.layers = List.copyOf(layers);
    }

    /**
     * A loader for {@code plugins}, each a Plugin class on the class path, shown to the node as a
     * module. {@code emptyDir} stands for the modules' directories (the node lists no jars in it).
     */
    public static PluginsLoader of(final Path emptyDir, final String esVersion, final List<Class<? extends Plugin>> plugins)
        throws IOException {
        Files.createDirectories(emptyDir);
        final ClassLoader loader = ClasspathPluginsLoader.class.getClassLoader();
        final Set<PluginBundle> bundles = new LinkedHashSet<>();
        final List<PluginLayer> layers = new ArrayList<>();
        for (final Class<? extends Plugin> type : plugins) {
            if (type.getClassLoader() != loader) {
                throw new IllegalArgumentException(type + " is not on the application class path");
            }
            final PluginDescriptor descriptor = new PluginDescriptor(
                type.getSimpleName(), "classpath plugin " + type.getName(), esVersion, esVersion, "17",
                type.getName(), null, List.of(), false, false, false, false);
            final PluginBundle bundle = new PluginBundle(descriptor, emptyDir);
            bundles.add(bundle);
            layers.add(new Layer(bundle, loader));
        }
        return new ClasspathPluginsLoader(bundles, layers);
    }

    @Override
    public Stream<PluginLayer> pluginLayers() {
        return layers.stream();
    }

    private record Layer(PluginBundle pluginBundle, ClassLoader pluginClassLoader) implements PluginLayer {
        @Override
        public ModuleLayer pluginModuleLayer() {
            return ModuleLayer.boot();
        }
    }
}
