/**
 * Enrollment: the phone's owner on first run (after consent), or a colleague added to
 * a shared phone from home ("Tambah rekan (ponsel bersama)"). The code typed or read
 * from the admin's slip with "Pindai QR", the kind of identifier (NIP, NI PPPK,
 * Non-ASN) and the identifier, checked inline by :shell as it is typed and when the
 * field is left; "Daftar" with progress; a failure shown with its remedy. Every check
 * and text is :shell's [EnrollmentState]'s.
 */
package id.go.hadir.app.ui.enrollment

import android.Manifest
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.selection.toggleable
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Checkbox
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.focus.onFocusChanged
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.BigButton
import id.go.hadir.app.ui.common.BigTouch
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.PermissionCard
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.app.ui.common.QrScannerView
import id.go.hadir.app.ui.common.ScreenColumn
import id.go.hadir.app.ui.common.SectionCard
import id.go.hadir.app.ui.common.SecondButton
import id.go.hadir.app.ui.common.isGranted
import id.go.hadir.app.ui.common.permissionStatus
import id.go.hadir.core.PersonKind
import id.go.hadir.shell.AppPermission
import id.go.hadir.shell.EnrollmentMode
import id.go.hadir.shell.EnrollmentState
import id.go.hadir.shell.PermissionExplanation
import id.go.hadir.shell.Permissions
import kotlinx.coroutines.launch

/** The enrollment screen; [onEnrolled] once the person is enrolled, [onBack] for a guest's. */
@Composable
fun EnrollmentScreen(viewModel: EnrollmentViewModel, onEnrolled: () -> Unit, onBack: (() -> Unit)?) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var scanning by rememberSaveable { mutableStateOf(false) }
    var cameraExplanation by remember { mutableStateOf<PermissionExplanation?>(null) }
    val cameraLauncher = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        scanning = granted
        cameraExplanation = if (granted) {
            null
        } else {
            Permissions.explain(AppPermission.CAMERA, context.permissionStatus(Manifest.permission.CAMERA, asked = true))
        }
    }
    LaunchedEffect(state.enrolled) { if (state.enrolled != null) onEnrolled() }

    val title = stringResource(if (state.mode == EnrollmentMode.OWNER) R.string.enroll_title_owner else R.string.enroll_title_guest)
    HadirScaffold(title, onBack) { padding ->
        ScreenColumn(padding, Modifier.verticalScroll(rememberScrollState())) {
            if (scanning) {
                Text(stringResource(R.string.enroll_scan_hint), style = MaterialTheme.typography.bodyLarge)
                QrScannerView(
                    onQr = { text -> scope.launch { viewModel.onQrScanned(text); scanning = false } },
                    modifier = Modifier.fillMaxWidth().aspectRatio(3f / 4f),
                )
                SecondButton(stringResource(R.string.action_back), { scanning = false })
            } else {
                if (state.mode == EnrollmentMode.GUEST) GuestConsent(state, viewModel)
                EnrollmentForm(state, viewModel, onScan = {
                    if (context.isGranted(Manifest.permission.CAMERA)) {
                        cameraExplanation = null
                        scanning = true
                    } else {
                        cameraLauncher.launch(Manifest.permission.CAMERA)
                    }
                })
                cameraExplanation?.let { PermissionCard(it, onAskAgain = { cameraLauncher.launch(Manifest.permission.CAMERA) }) }
                state.problem?.let { ProblemCard(it, onRetry = viewModel::submit) }
                if (state.busy) {
                    Box(Modifier.fillMaxWidth().heightIn(min = BigTouch), contentAlignment = Alignment.Center) {
                        CircularProgressIndicator(Modifier.size(40.dp))
                    }
                } else {
                    BigButton(stringResource(R.string.enroll_submit), viewModel::submit)
                }
            }
        }
    }
}

/**
 * A colleague added to a shared phone is their own data subject: they read :shell's
 * consent sections here and tick their own agreement before enrolling.
 */
@Composable
private fun GuestConsent(state: EnrollmentState, viewModel: EnrollmentViewModel) {
    for (section in viewModel.consentSections) {
        SectionCard(section.title) { Text(section.body, style = MaterialTheme.typography.bodyMedium) }
    }
    Row(
        modifier = Modifier
            .fillMaxWidth()
            .heightIn(min = BigTouch)
            .toggleable(value = state.guestConsent, onValueChange = viewModel::onGuestConsent, role = Role.Checkbox),
        verticalAlignment = Alignment.CenterVertically,
    ) {
        Checkbox(checked = state.guestConsent, onCheckedChange = null)
        Text(stringResource(R.string.consent_agree), style = MaterialTheme.typography.bodyLarge)
    }
}

/** The code (typed, or read with "Pindai QR"), the kind of identifier and the identifier. */
@Composable
private fun EnrollmentForm(state: EnrollmentState, viewModel: EnrollmentViewModel, onScan: () -> Unit) {
    val codeError = state.codeError
    OutlinedTextField(
        value = state.code,
        onValueChange = viewModel::onCodeChanged,
        label = { Text(stringResource(R.string.enroll_code)) },
        isError = codeError != null,
        supportingText = if (codeError != null) { { Text(codeError) } } else null,
        singleLine = true,
        keyboardOptions = KeyboardOptions(
            capitalization = KeyboardCapitalization.Characters,
            keyboardType = KeyboardType.Ascii,
            imeAction = ImeAction.Next,
        ),
        textStyle = MaterialTheme.typography.titleMedium,
        modifier = Modifier.fillMaxWidth(),
    )
    SecondButton(stringResource(R.string.enroll_scan_qr), onScan)
    Text(stringResource(R.string.enroll_kind), style = MaterialTheme.typography.titleMedium)
    KindChooser(state.personKind, viewModel::onKindChanged)
    PersonIdField(
        value = state.personId,
        hint = state.personHint,
        error = state.personError,
        numeric = state.personKind != PersonKind.NON_ASN,
        onChange = viewModel::onPersonIdChanged,
        onDone = viewModel::onPersonIdDone,
    )
}

/** NIP / NI PPPK / Non-ASN as large radio rows. */
@Composable
private fun KindChooser(selected: PersonKind, onSelect: (PersonKind) -> Unit) {
    val kinds = listOf(
        PersonKind.NIP to R.string.enroll_kind_nip,
        PersonKind.NI_PPPK to R.string.enroll_kind_pppk,
        PersonKind.NON_ASN to R.string.enroll_kind_non_asn,
    )
    Column(Modifier.selectableGroup()) {
        for ((kind, label) in kinds) {
            Row(
                modifier = Modifier
                    .fillMaxWidth()
                    .heightIn(min = BigTouch)
                    .selectable(selected = kind == selected, onClick = { onSelect(kind) }, role = Role.RadioButton),
                verticalAlignment = Alignment.CenterVertically,
            ) {
                RadioButton(selected = kind == selected, onClick = null)
                Text(stringResource(label), style = MaterialTheme.typography.bodyLarge)
            }
        }
    }
}

/** The identifier, checked by :shell as typed and again when the field loses focus. */
@Composable
private fun PersonIdField(
    value: String,
    hint: String,
    error: String?,
    numeric: Boolean,
    onChange: (String) -> Unit,
    onDone: () -> Unit,
) {
    var focused by remember { mutableStateOf(false) }
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(hint) },
        isError = error != null,
        supportingText = if (error != null) { { Text(error) } } else null,
        singleLine = true,
        keyboardOptions = KeyboardOptions(
            keyboardType = if (numeric) KeyboardType.Number else KeyboardType.Ascii,
            imeAction = ImeAction.Done,
        ),
        textStyle = MaterialTheme.typography.titleMedium,
        modifier = Modifier
            .fillMaxWidth()
            .onFocusChanged {
                if (focused && !it.isFocused) onDone()
                focused = it.isFocused
            },
    )
}
