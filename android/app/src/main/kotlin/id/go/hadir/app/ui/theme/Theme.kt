/**
 * Hadir's Material 3 theme for the Compose screens: the brand green, high contrast for
 * outdoor sunlight, and the platform's default typography (large enough for the
 * oversized "Hadir" button the screens draw).
 */
package id.go.hadir.app.ui.theme

import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color

private val HadirGreen = Color(0xFF1B6B3A)
private val HadirGreenDark = Color(0xFF0F4424)
private val HadirGreenLight = Color(0xFF8FD4A6)
private val HadirBackground = Color(0xFFF7FAF7)
private val HadirError = Color(0xFFB3261E)

private val LightColors = lightColorScheme(
    primary = HadirGreen,
    onPrimary = Color.White,
    primaryContainer = Color(0xFFC8EBD2),
    onPrimaryContainer = HadirGreenDark,
    background = HadirBackground,
    surface = Color.White,
    error = HadirError,
)

private val DarkColors = darkColorScheme(
    primary = HadirGreenLight,
    onPrimary = HadirGreenDark,
    primaryContainer = HadirGreen,
    onPrimaryContainer = Color.White,
    error = Color(0xFFF2B8B5),
)

/** Wraps the app's screens in Hadir's colours, light or dark as the phone is set. */
@Composable
fun HadirTheme(darkTheme: Boolean = isSystemInDarkTheme(), content: @Composable () -> Unit) {
    MaterialTheme(
        colorScheme = if (darkTheme) DarkColors else LightColors,
        content = content,
    )
}
