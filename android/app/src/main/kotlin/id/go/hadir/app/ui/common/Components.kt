/**
 * The few building blocks every screen shares, sized for a small, cheap phone held in
 * one hand outdoors: a screen frame with a title bar and a back button, large buttons
 * (at least 56 dp tall), section cards, and the one way a :shell [Problem] is shown
 * (its message as is, its code small for support calls, a button for its remedy). A
 * revoked device (`AUTH_DEVICE_REVOKED`) shows :shell's revoked text wherever it
 * surfaces.
 */
package id.go.hadir.app.ui.common

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ColumnScope
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.WindowInsets
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.statusBars
import androidx.compose.foundation.layout.windowInsetsPadding
import androidx.compose.material3.Button
import androidx.compose.material3.ButtonDefaults
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.compositionLocalOf
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import id.go.hadir.app.R
import id.go.hadir.shell.PermissionExplanation
import id.go.hadir.shell.PermissionStatus
import id.go.hadir.shell.Problem
import id.go.hadir.shell.Remedy
import id.go.hadir.shell.SettingsScreen

/** The device id the server knows this phone by (null before enrollment), for the revoked text. */
val LocalDeviceId = compositionLocalOf<String?> { null }

/** The code the server gives a device the admin revoked. */
private const val DEVICE_REVOKED = "AUTH_DEVICE_REVOKED"

/** Buttons at least this tall: thumbs, gloves, sunlight. */
val BigTouch = 56.dp

/** A screen: a title bar (with "Kembali" when [onBack] is set) over scrollable or list content. */
@Composable
fun HadirScaffold(title: String, onBack: (() -> Unit)?, content: @Composable (PaddingValues) -> Unit) {
    Scaffold(
        topBar = {
            Surface(color = MaterialTheme.colorScheme.primary, contentColor = MaterialTheme.colorScheme.onPrimary) {
                Row(
                    modifier = Modifier
                        .fillMaxWidth()
                        .windowInsetsPadding(WindowInsets.statusBars)
                        .heightIn(min = BigTouch)
                        .padding(horizontal = 8.dp),
                    verticalAlignment = Alignment.CenterVertically,
                ) {
                    if (onBack != null) {
                        TextButton(
                            onClick = onBack,
                            colors = ButtonDefaults.textButtonColors(contentColor = MaterialTheme.colorScheme.onPrimary),
                        ) { Text(stringResource(R.string.action_back)) }
                    }
                    Text(title, style = MaterialTheme.typography.titleLarge, modifier = Modifier.padding(horizontal = 8.dp))
                }
            }
        },
        content = content,
    )
}

/** The padded, vertically spaced column most screens are. */
@Composable
fun ScreenColumn(padding: PaddingValues, modifier: Modifier = Modifier, content: @Composable ColumnScope.() -> Unit) {
    Column(
        modifier = modifier
            .fillMaxSize()
            .padding(padding)
            .padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
        content = content,
    )
}

/** A full-width primary button at least [BigTouch] tall. */
@Composable
fun BigButton(text: String, onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true) {
    Button(onClick = onClick, enabled = enabled, modifier = modifier.fillMaxWidth().heightIn(min = BigTouch)) {
        Text(text, style = MaterialTheme.typography.titleMedium)
    }
}

/** A full-width secondary button at least [BigTouch] tall. */
@Composable
fun SecondButton(text: String, onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true) {
    OutlinedButton(onClick = onClick, enabled = enabled, modifier = modifier.fillMaxWidth().heightIn(min = BigTouch)) {
        Text(text, style = MaterialTheme.typography.titleMedium)
    }
}

/** A titled card holding one section of a screen. */
@Composable
fun SectionCard(title: String?, modifier: Modifier = Modifier, content: @Composable ColumnScope.() -> Unit) {
    Card(modifier = modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            if (title != null) Text(title, style = MaterialTheme.typography.titleMedium)
            content()
        }
    }
}

/**
 * Shows [problem]: :shell's message (or, for a revoked device, :shell's revoked text
 * naming this phone's id), its code for support, and a button for its remedy when the
 * screen offers one: [onRetry] for RETRY, the app's settings page for OPEN_SETTINGS.
 * The other remedies (correct the input, retake, rescan, ask the admin) are the
 * message itself and the screen's own controls.
 */
@Composable
fun ProblemCard(problem: Problem, onRetry: (() -> Unit)? = null) {
    val context = LocalContext.current
    val message = if (problem.code == DEVICE_REVOKED) SettingsScreen.revoked(LocalDeviceId.current) else problem.message
    Card(
        modifier = Modifier.fillMaxWidth(),
        colors = CardDefaults.cardColors(
            containerColor = MaterialTheme.colorScheme.errorContainer,
            contentColor = MaterialTheme.colorScheme.onErrorContainer,
        ),
    ) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(message, style = MaterialTheme.typography.bodyLarge)
            Text(stringResource(R.string.problem_code, problem.code), style = MaterialTheme.typography.labelSmall)
            when {
                problem.remedy == Remedy.RETRY && onRetry != null ->
                    BigButton(stringResource(R.string.action_retry), onRetry)
                problem.remedy == Remedy.OPEN_SETTINGS ->
                    BigButton(stringResource(R.string.action_open_settings), { context.openAppDetailsSettings() })
                else -> Unit
            }
        }
    }
}

/**
 * One of :shell's [PermissionExplanation]s: why Hadir needs it, what to do now, and
 * the button that does it: ask again ([onAskAgain]) after a first refusal, or the
 * app's page in the phone's settings once refused for good.
 */
@Composable
fun PermissionCard(explanation: PermissionExplanation, onAskAgain: () -> Unit, title: String? = null) {
    val context = LocalContext.current
    SectionCard(title) {
        Text(explanation.why, style = MaterialTheme.typography.bodyLarge)
        explanation.action?.let { Text(it, style = MaterialTheme.typography.bodyLarge) }
        when {
            explanation.status == PermissionStatus.GRANTED -> Unit
            explanation.opensSettings ->
                BigButton(stringResource(R.string.action_open_settings), { context.openAppDetailsSettings() })
            else -> BigButton(stringResource(R.string.action_allow), onAskAgain)
        }
    }
}
