/*
 * The analysis components of Dossier's index settings (search/backends/_es_common.py) that an
 * Elasticsearch distribution takes from its analysis-common module, which is not published on
 * Maven Central: the token filters cjk_width, cjk_bigram and stemmer. Each is built from Lucene's
 * own class (lucene-analysis-common, the version Elasticsearch depends on), with the parameters
 * and defaults of analysis-common's factories, for the parameters Dossier uses:
 *
 *   cjk_width   CJKWidthFilter (pre-configured, no parameters)
 *   cjk_bigram  CJKBigramFilter; output_unigrams (default false), ignored_scripts (han, hiragana,
 *               katakana, hangul; default none); with unigrams the stream is marked as not a
 *               graph, as analysis-common does
 *   stemmer     language minimal_english (EnglishMinimalStemFilter), english/porter
 *               (PorterStemFilter), light_english/kstem (KStemFilter), possessive_english
 *               (EnglishPossessiveFilter); any other language is refused with an error
 *
 * The standard tokenizer and the lowercase and stop filters are in Elasticsearch's server jar.
 */
package dossier.elasticsearch;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.lucene.analysis.miscellaneous.DisableGraphAttribute;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

public final class DossierAnalysisPlugin extends Plugin implements AnalysisPlugin {

    public DossierAnalysisPlugin() {
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "cjk_bigram", DossierAnalysisPlugin::cjkBigram,
            "cjk_width", (indexSettings, env, name, settings) -> new Simple(name, CJKWidthFilter::new),
            "stemmer", DossierAnalysisPlugin::stemmer);
    }

    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        return List.of(PreConfiguredTokenFilter.singleton("cjk_width", true, CJKWidthFilter::new));
    }

    private static TokenFilterFactory cjkBigram(final IndexSettings indexSettings, final Environment env, final String name,
                                                final Settings settings) {
        final boolean unigrams = settings.getAsBoolean("output_unigrams", false);
        int flags = 0;
        final List<String> ignored = settings.getAsList("ignored_scripts");
        for (final String script : ignored) {
            if (!List.of("han", "hiragana", "katakana", "hangul").contains(script)) {
                throw new IllegalArgumentException("[cjk_bigram] unknown script [" + script + "] in ignored_scripts");
            }
        }
        if (!ignored.contains("han")) {
            flags |= CJKBigramFilter.HAN;
        }
        if (!ignored.contains("hiragana")) {
            flags |= CJKBigramFilter.HIRAGANA;
        }
        if (!ignored.contains("katakana")) {
            flags |= CJKBigramFilter.KATAKANA;
        }
        if (!ignored.contains("hangul")) {
            flags |= CJKBigramFilter.HANGUL;
        }
        final int scripts = flags;
        return new Simple(name, in -> {
            final CJKBigramFilter out = new CJKBigramFilter(in, scripts, unigrams);
            if (unigrams) {
                // Bigrams and unigrams are not aligned paths of a graph: query parsing must not treat them as one.
                out.addAttribute(DisableGraphAttribute.class);
            }
            return out;
        });
    }

    private static TokenFilterFactory stemmer(final IndexSettings indexSettings, final Environment env, final String name,
                                              final Settings settings) {
        final String language = settings.get("language", settings.get("name", "porter")).toLowerCase(Locale.ROOT);
        return switch (language) {
            case "minimal_english" -> new Simple(name, EnglishMinimalStemFilter::new);
            case "english", "porter" -> new Simple(name, PorterStemFilter::new);
            case "light_english", "kstem" -> new Simple(name, KStemFilter::new);
            case "possessive_english" -> new Simple(name, EnglishPossessiveFilter::new);
            default -> throw new IllegalArgumentException(
                "[stemmer] language [" + language + "] is not available on Dossier's test node (see scripts/elasticsearch/)");
        };
    }

    /** A token filter with no state beyond its name and how it wraps a stream. */
    private static final class Simple extends AbstractTokenFilterFactory {
        private final java.util.function.Function<TokenStream, TokenStream> wrap;

        Simple(final String name, final java.util.function.Function<TokenStream, TokenStream> wrap) {
            super(name, Settings.EMPTY);
            this.wrap = wrap;
        }

        @Override
        public TokenStream create(final TokenStream tokenStream) {
            return wrap.apply(tokenStream);
        }
    }
}
